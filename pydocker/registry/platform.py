"""Platforms (``os/arch[/variant]``) and choosing an image from a multi-platform index."""

import re
from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter, NotFound

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm",
                 "armel": "arm", "i386": "386"}
# The variant an architecture implies when none is written (containerd's normalisation).
_DEFAULT_VARIANTS = {"arm64": "v8", "arm": "v7"}
# containerd's syntax: what a component may hold, and what one component alone may name.
_COMPONENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_KNOWN_OS = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
             "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos"}
_KNOWN_ARCH = {"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le",
               "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
               "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"}


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text):
        """``linux``, ``linux/arm64``, ``linux/arm64/v8``; ``None`` or ``""`` is linux/amd64."""
        if not text:
            return cls()
        parts = text.lower().split("/")
        if len(parts) > 3 or not all(_COMPONENT.match(part) for part in parts):
            raise InvalidParameter(f"invalid platform {text!r}: expected os[/arch[/variant]]")
        if len(parts) == 1:
            if parts[0] in _KNOWN_OS:
                return cls(parts[0]).normalized()
            arch = _ARCH_ALIASES.get(parts[0], parts[0])
            if arch in _KNOWN_ARCH:
                return cls("linux", arch).normalized()
            raise InvalidParameter(f"invalid platform {text!r}: unknown operating system or architecture")
        return cls(*parts).normalized()

    def normalized(self):
        arch = _ARCH_ALIASES.get(self.architecture, self.architecture)
        variant = self.variant
        if arch == "arm64" and variant == "8":
            variant = "v8"
        if variant is None:
            variant = _DEFAULT_VARIANTS.get(arch)
        return Platform(self.os, arch, variant)

    def matches(self, descriptor_platform):
        """Whether an index entry's ``platform`` object describes this platform."""
        other = Platform(descriptor_platform.get("os", ""),
                         descriptor_platform.get("architecture", ""),
                         descriptor_platform.get("variant")).normalized()
        return (other.os, other.architecture, other.variant) == (self.os, self.architecture,
                                                                 self.variant)

    def __str__(self):
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def select_manifest(index, platform):
    """Return the descriptor of ``index``'s entry for ``platform`` (first match wins)."""
    for descriptor in index.get("manifests", []):
        if platform.matches(descriptor.get("platform") or {}):
            return descriptor
    raise NotFound(f"no matching manifest for {platform} in the manifest list entries")
