"""Driving a daemon under test with the docker CLI."""

import subprocess


def docker(cli, daemon, *args, check=True, input="", timeout=120, env=None):
    """Run ``cli`` (the docker CLI's path) with ``args`` against ``daemon``; with
    ``check``, a failure shows the CLI's stderr and the end of the daemon's log."""
    proc = subprocess.run([cli, "-H", daemon.host, *args], capture_output=True, text=True,
                          input=input, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr}\n"
                             f"{daemon.log()[-3000:]}")
    return proc


def docker_at(host, *args, check=True, timeout=300, env=None):
    """Run the docker CLI on PATH with ``args`` against ``host``: the side-by-side tests
    address pydocker and dockerd alike by their host."""
    proc = subprocess.run(["docker", "-H", host, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc
