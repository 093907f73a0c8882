"""``--userns-remap`` end to end, through the docker CLI: containers in a user
namespace whose root is a subordinate host id, layers and volumes owned
accordingly under ``<data-root>/<uid>.<gid>``, ``--userns=host`` opting out.

Each daemon runs in a mount namespace of its own where /etc is an overlay
whose upper directory belongs to the test: ``dockremap`` and the subordinate
ranges are made (or written by the test) there, never on the host.
"""

import contextlib
import io
import json
import os
import pwd
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.loopfs import loop_filesystem

pytestmark = pytest.mark.kernel


class PrivateEtcDaemon(DaemonProcess):
    """A daemon whose /etc is an overlay of the host's with ``etc_upper`` on top."""

    def __init__(self, base, extra_args=()):
        super().__init__(base, extra_args)
        self.etc_upper = os.path.join(self.base, "etc-upper")
        self._etc_work = os.path.join(self.base, "etc-work")
        os.makedirs(self.etc_upper, exist_ok=True)
        os.makedirs(self._etc_work, exist_ok=True)

    def args(self):
        script = ('mount --make-rprivate / && mount -t overlay overlay -o lowerdir=/etc,upperdir="$0",'
                  'workdir="$1" /etc && shift && exec "$@"')
        return ["unshare", "--mount", "sh", "-c", script, self.etc_upper, self._etc_work,
                *super().args()]


@pytest.fixture
def base():
    """A temporary directory the remapped root can traverse (dockerd asks for o+x on the way)."""
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    path = tempfile.mkdtemp(prefix="pydocker-userns-")
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemons(base):
    started = []

    def start(name, *args, etc=None, parent=None):
        d = PrivateEtcDaemon(os.path.join(parent or base, name), args)
        for filename, text in (etc or {}).items():
            with open(os.path.join(d.etc_upper, filename), "w") as f:
                f.write(text)
        d.start()
        started.append(d)
        return d

    yield start
    for d in started:
        assert d.stop() == 0, d.log()[-3000:]


def docker(d, *args, check=True):
    proc = subprocess.run(["docker", "-H", d.host, *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (%d): %s\n%s"
                             % (" ".join(args), proc.returncode, proc.stderr, d.log()[-3000:]))
    return proc


def inspect(d, kind, name):
    return json.loads(docker(d, kind, "inspect", name).stdout)[0]


def host_ids(pid):
    """(real uid, real gid) of host process ``pid``, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["Uid"].split()[0]), int(fields["Gid"].split()[0])


def owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid


# Where each driver keeps a layer's own directory, under the data root.
LAYER_DIRS = {"vfs": "vfs/dir", "btrfs": "btrfs/subvolumes"}


@pytest.fixture
def loop_btrfs(base):
    with contextlib.ExitStack() as stack:
        def make():
            if shutil.which("mkfs.btrfs") is None:
                pytest.skip("mkfs.btrfs (btrfs-progs) is not installed")
            return stack.enter_context(loop_filesystem(base, ["mkfs.btrfs", "-q"], size_mb=512))
        yield make


@pytest.mark.parametrize("driver", ["overlay2", "vfs", "btrfs"])
def test_default_remaps_root_to_dockremap_ranges(loop_btrfs, daemons, driver):
    parent = loop_btrfs() if driver == "btrfs" else None
    d = daemons("remapped", "--userns-remap=default", "-s", driver, parent=parent)
    d.import_busybox()
    # dockremap and its ranges exist in the daemon's /etc only.
    with open(os.path.join(d.etc_upper, "passwd")) as f:
        assert "\ndockremap:" in "\n" + f.read()
    for name in ("subuid", "subgid"):
        with open(os.path.join(d.etc_upper, name)) as f:
            assert f.read() == "dockremap:100000:65536\n"
    with pytest.raises(KeyError):
        pwd.getpwnam("dockremap")

    info = json.loads(docker(d, "info", "--format", "{{json .}}").stdout)
    assert "name=userns" in info["SecurityOptions"]
    assert info["DockerRootDir"] == os.path.join(d.root, "100000.100000")
    assert os.stat(d.root).st_mode & 0o777 == 0o711
    assert owner(info["DockerRootDir"]) == (0, 100000)

    docker(d, "volume", "create", "data")
    docker(d, "run", "-d", "--name", "ctr", "-v", "data:/data", "busybox", "sleep", "300")
    pid = inspect(d, "container", "ctr")["State"]["Pid"]
    assert host_ids(pid) == (100000, 100000)
    inside = docker(d, "exec", "ctr", "sh", "-c",
                    "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; "
                    "touch /made-here /data/made-in-volume; echo 10.9.9.9 extra >> /etc/hosts; "
                    "touch /dev/shm/x && echo shm-ok").stdout.split("\n")
    assert [line.split() for line in inside[:2]] == [["0", "100000", "65536"]] * 2
    assert inside[2:5] == ["0", "0", "shm-ok"]

    container = inspect(d, "container", "ctr")
    layers = os.path.join(info["DockerRootDir"], LAYER_DIRS.get(driver, ""))
    if driver == "overlay2":
        upper = container["GraphDriver"]["Data"]["UpperDir"]
    else:
        upper = os.path.join(layers, container["Id"])
    assert owner(os.path.join(upper, "made-here")) == (100000, 100000)
    volume = inspect(d, "volume", "data")["Mountpoint"]
    assert volume.startswith(info["DockerRootDir"] + "/volumes/")
    assert owner(os.path.join(volume, "made-in-volume")) == (100000, 100000)
    assert owner(container["HostsPath"]) == (100000, 100000)

    # The image's root-owned busybox, and a file of uid 1000, shifted on extraction.
    image = inspect(d, "image", "busybox")
    if driver == "overlay2":
        layer = image["GraphDriver"]["Data"]["UpperDir"]
    else:
        [layer] = [os.path.join(layers, name) for name in os.listdir(layers)
                   if not name.startswith(container["Id"])]
    assert owner(os.path.join(layer, "bin", "busybox")) == (100000, 100000)

    # Out of the container, ids are the container's again: export and cp.
    exported = os.path.join(d.base, "export.tar")
    docker(d, "export", "-o", exported, "ctr")
    with tarfile.open(exported) as tar:
        owners = {m.name: (m.uid, m.gid) for m in tar.getmembers()}
    assert owners["made-here"] == (0, 0)
    assert owners["bin/busybox"] == (0, 0)
    docker(d, "rm", "-f", "ctr")


def test_a_container_joins_a_remapped_containers_pid_namespace(daemons):
    """The native driver builds such a container's mounts before it forks into
    that pid namespace, and mounts its /proc there (tests/exec/test_escape.py):
    in a user namespace, too, where the kernel wants a visible proc for that."""
    d = daemons("remapped", "--userns-remap=default")
    d.import_busybox()
    docker(d, "run", "-d", "--name", "first", "busybox", "sleep", "300")
    with open(os.path.join(d.base, "uptime"), "w") as f:
        f.write("12.00 34.00\n")
    out = docker(d, "run", "--rm", "--pid", "container:first",
                 "-v", os.path.join(d.base, "uptime") + ":/proc/uptime:ro", "busybox", "sh", "-c",
                 "cat /proc/1/cmdline; echo; cat /proc/uptime; cat /proc/self/uid_map").stdout
    lines = out.split("\n")
    assert lines[0].split("\0")[:2] == ["sleep", "300"]
    assert lines[1] == "12.00 34.00"
    assert lines[2].split() == ["0", "100000", "65536"]
    docker(d, "rm", "-f", "first")


def test_userns_host_and_refused_modes(daemons):
    d = daemons("remapped", "--userns-remap=default")
    d.import_busybox()
    docker(d, "run", "-d", "--name", "host-ns", "--userns=host", "busybox", "sleep", "300")
    pid = inspect(d, "container", "host-ns")["State"]["Pid"]
    assert host_ids(pid) == (0, 0)
    assert docker(d, "exec", "host-ns", "cat", "/proc/self/uid_map").stdout.split() == ["0", "0", "4294967295"]
    docker(d, "rm", "-f", "host-ns")

    refused = {
        "--privileged": "privileged mode is incompatible with user namespaces",
        "--net=host": "cannot share the host's network namespace when user namespaces are enabled",
        "--pid=host": "cannot share the host PID namespace when user namespaces are enabled",
    }
    for flag, message in refused.items():
        proc = docker(d, "create", flag, "busybox", "true", check=False)
        assert proc.returncode != 0 and message in proc.stderr, (flag, proc.stderr)
    out = docker(d, "run", "--rm", "--privileged", "--userns=host", "busybox", "cat", "/proc/self/uid_map")
    assert out.stdout.split() == ["0", "0", "4294967295"]


def test_separate_roots_per_mapping(daemons, base):
    remapped = daemons("one", "--userns-remap=default")
    remapped.import_busybox()
    assert docker(remapped, "images", "-q").stdout.strip()
    assert remapped.stop() == 0
    plain = DaemonProcess(remapped.base)   # the same -g, no remapping
    plain.start()
    try:
        assert docker(plain, "images", "-q").stdout.strip() == ""
    finally:
        assert plain.stop() == 0
    config = os.path.join(base, "daemon.json")      # the same, from daemon.json this time
    with open(config, "w") as f:
        json.dump({"userns-remap": "default"}, f)
    again = daemons("one-again", "--config-file", config, "-g", remapped.root)
    assert docker(again, "images", "-q").stdout.strip()
    assert "name=userns" in docker(again, "info", "--format", "{{json .SecurityOptions}}").stdout


def test_user_group_with_several_ranges(daemons):
    ranges = "nobody:300000:1000\nnobody:400000:65536\n"
    d = daemons("nobody", "--userns-remap=nobody:nogroup", etc={"subuid": ranges, "subgid": ranges})
    d.import_busybox()
    out = docker(d, "run", "--rm", "busybox", "sh", "-c", "cat /proc/self/uid_map; id -u").stdout.split("\n")
    assert [line.split() for line in out[:2]] == [["0", "300000", "1000"], ["1000", "400000", "65536"]]
    assert out[2] == "0"
    out = docker(d, "run", "--rm", "--user", "2000:2000", "busybox", "sh", "-c", "touch /tmp/f; stat -c %u /tmp/f")
    assert out.stdout.strip() == "2000"


@pytest.mark.parametrize("remap, etc, message", [
    ("nobody:nogroup", {}, "no subordinate ranges for user 'nobody' in /etc/subuid"),
    ("nobody:nogroup", {"subuid": "nobody:300000:65536\n"}, "no subordinate ranges for user 'nobody' in /etc/subgid"),
    ("no-such-user-here", {}, "no user 'no-such-user-here' in /etc/passwd"),
    ("nobody:no-such-group", {}, "no group 'no-such-group' in /etc/group"),
    ("a:b:c", {}, "invalid user/group specification in --userns-remap"),
])
def test_bad_remap_stops_the_start(base, remap, etc, message):
    d = PrivateEtcDaemon(os.path.join(base, "bad"), ["--userns-remap=" + remap])
    for filename, text in etc.items():
        with open(os.path.join(d.etc_upper, filename), "w") as f:
            f.write(text)
    with pytest.raises(RuntimeError) as failed:
        d.start()
    assert message in str(failed.value)
    assert not os.path.exists(d.pidfile)


def test_lxc_driver_maps_the_same_ranges(daemons):
    if shutil.which("lxc-execute") is None:
        pytest.skip("LXC is not installed")
    ranges = "nobody:300000:65536\nroot:300000:65536\n"   # LXC's newuidmap wants root to hold them
    d = daemons("lxc", "-e", "lxc", "--userns-remap=nobody:nogroup", etc={"subuid": ranges, "subgid": ranges})
    d.import_busybox()
    docker(d, "run", "-d", "--name", "ctr", "-v", "data:/data", "busybox", "sleep", "300")
    pid = inspect(d, "container", "ctr")["State"]["Pid"]
    assert host_ids(pid) == (300000, 300000)
    out = docker(d, "exec", "ctr", "sh", "-c", "cat /proc/self/uid_map; id -u; touch /data/f").stdout.split("\n")
    assert out[0].split() == ["0", "300000", "65536"] and out[1] == "0"
    assert owner(os.path.join(inspect(d, "volume", "data")["Mountpoint"], "f")) == (300000, 300000)
    docker(d, "rm", "-f", "ctr")


def test_lxc_driver_names_the_ranges_root_lacks(daemons):
    if shutil.which("lxc-execute") is None or shutil.which("newuidmap") is None:
        pytest.skip("LXC or newuidmap is not installed")
    ranges = "nobody:300000:65536\n"
    d = daemons("lxc", "-e", "lxc", "--userns-remap=nobody:nogroup", etc={"subuid": ranges, "subgid": ranges})
    d.import_busybox()
    proc = docker(d, "run", "--rm", "busybox", "true", check=False)
    assert proc.returncode != 0
    assert "add root:300000:65536 to /etc/subuid" in proc.stderr


def test_build_cp_and_volume_copy_keep_container_ids(daemons):
    d = daemons("remapped", "--userns-remap=default")
    d.import_busybox()
    context = os.path.join(d.base, "context")
    os.makedirs(context)
    with open(os.path.join(context, "f"), "w") as f:
        f.write("content\n")
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nCOPY f /f\nCOPY --chown=1000:1000 f /owned/g\nWORKDIR /w\n"
                "RUN mkdir -p /data/sub && touch /data/sub/h && chown -R 1000:1000 /data/sub && touch made\n")
    docker(d, "build", "-q", "-t", "built", context)
    out = docker(d, "run", "--rm", "-v", "fromimage:/data", "built", "sh", "-c",
                 "stat -c '%n %u %g' /f /owned /owned/g /w /w/made /data/sub /data/sub/h; "
                 "touch /data/sub/by-root && echo wrote").stdout.splitlines()
    assert out == ["/f 0 0", "/owned 0 0", "/owned/g 1000 1000", "/w 0 0", "/w/made 0 0",
                   "/data/sub 1000 1000", "/data/sub/h 1000 1000", "wrote"]
    volume = inspect(d, "volume", "fromimage")["Mountpoint"]
    assert owner(os.path.join(volume, "sub", "h")) == (101000, 101000)

    docker(d, "create", "--name", "ctr", "built", "true")
    docker(d, "cp", os.path.join(context, "f"), "ctr:/copied-in")
    upper = inspect(d, "container", "ctr")["GraphDriver"]["Data"]["UpperDir"]
    assert owner(os.path.join(upper, "copied-in")) == (100000, 100000)
    out = subprocess.run(["docker", "-H", d.host, "cp", "ctr:/owned", "-"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        assert {m.name: (m.uid, m.gid) for m in tar.getmembers()} == {"owned": (0, 0), "owned/g": (1000, 1000)}
    docker(d, "rm", "ctr")

    # save packs every layer with the container's ids.
    saved = subprocess.run(["docker", "-H", d.host, "save", "built"], capture_output=True, check=True).stdout
    owners = set()
    with tarfile.open(fileobj=io.BytesIO(saved)) as image:
        for member in image.getmembers():
            if member.isfile() and (member.name.endswith("layer.tar") or member.name.startswith("blobs/")):
                try:
                    with tarfile.open(fileobj=image.extractfile(member)) as layer:
                        owners |= {(m.uid, m.gid) for m in layer.getmembers()}
                except tarfile.ReadError:
                    continue   # a config or manifest blob
    assert owners == {(0, 0), (1000, 1000)}


def test_shared_namespaces_console_ipc_and_bind_sources(daemons, base):
    d = daemons("remapped", "--userns-remap=default")
    d.import_busybox()
    docker(d, "run", "-d", "--name", "first", "busybox", "sleep", "300")
    first = docker(d, "exec", "first", "readlink", "/proc/self/ns/user").stdout
    # Joining a container's network namespace joins its user namespace too, as dockerd has runc do.
    joined = docker(d, "run", "--rm", "--net=container:first", "busybox", "readlink", "/proc/self/ns/user")
    assert joined.stdout == first
    assert docker(d, "exec", "-t", "first", "tty").stdout.startswith("/dev/pts/")
    docker(d, "rm", "-f", "first")
    # The terminal, from the container's own devpts, belongs to its root and tty group.
    out = docker(d, "run", "--rm", "-t", "busybox", "sh", "-c", "stat -c '%u %g' /dev/console; echo hi > /dev/console")
    assert out.stdout.replace("\r", "").splitlines() == ["0 5", "hi"]
    # The host's IPC namespace is not the container's to mount mqueue in: it still starts.
    assert docker(d, "run", "--rm", "--ipc=host", "busybox", "echo", "ipc-ok").stdout == "ipc-ok\n"
    # A missing -v source is made for the remapped root, which may write in it.
    source = os.path.join(base, "made-by-the-daemon")
    docker(d, "run", "--rm", "-v", source + ":/b", "busybox", "touch", "/b/x")
    assert owner(source) == owner(os.path.join(source, "x")) == (100000, 100000)
