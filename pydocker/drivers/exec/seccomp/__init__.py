"""Seccomp policy shared by both exec drivers: Docker's default (``default``) and
Docker-format JSON profiles (``profile``) read into one rule shape. Each driver only
writes these rules its own way (native: BPF through libseccomp; lxc: LXC's text format),
so both enforce the same policy."""
