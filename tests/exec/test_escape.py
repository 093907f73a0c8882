"""No host file reachable from inside a container through the processes that
enter it (the class of runc's CVE-2019-5736 and CVE-2024-21626).

An attacker in the container (``escape_racer.c``, built here with ``cc -static``)
scans /proc without pause while processes enter the container (execs, and the
init of another container joining its pid namespace), holds every exe, cwd,
root, fd and map_files handle it can open and, once nothing executes the files
any more, tries to write through them. The native driver's spawner runs a
private copy of the interpreter (its own libpython too), and the racer only
ever writes to that copy or to memfds, never to a real host file.

Where the racer cannot be built the tests skip by reason, unless
PYDOCKER_TEST_RACER=required (make test-kernels' guest): there it is a failure.
"""

import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time

import pytest

from conftest import Recorder
from exec_reactor import spin, wait
from pydocker import sysinfo
from pydocker.drivers.exec.errors import ContainerStartError
from pydocker.drivers.exec.native import spawner_client
from pydocker.drivers.exec.spec import ExecSpec, Mount, Namespaces
from pydocker.errdefs import InvalidParameter

pytestmark = pytest.mark.kernel
RACER_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "escape_racer.c")


def cannot_race(reason):
    """Skip without the racer, or fail where the run says it must have one."""
    if os.environ.get("PYDOCKER_TEST_RACER") == "required":
        pytest.fail(reason + " (PYDOCKER_TEST_RACER=required)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def racer(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        cannot_race("no C compiler to build the in-container racer")
    path = str(tmp_path_factory.mktemp("racer") / "escape_racer")
    built = subprocess.run([compiler, "-static", "-O2", "-o", path, RACER_SOURCE],
                           capture_output=True, text=True)
    if built.returncode != 0:
        cannot_race("cannot build a static racer: %s" % built.stderr.strip()[-200:])
    return path


@pytest.fixture(scope="session")
def private_interpreter():
    """A copy of this interpreter (and of its libpython, with the copy's RUNPATH
    pointed at it) that the racer may write to: the real one is never at risk."""
    directory = tempfile.mkdtemp(prefix="pdk", dir="/tmp")
    os.makedirs(os.path.join(directory, "bin"))
    executable = os.path.join(directory, "bin", os.path.basename(os.path.realpath(sys.executable)))
    with open(os.path.realpath(sys.executable), "rb") as f:
        image = f.read()
    copies = [executable]
    soname = (sysconfig.get_config_var("INSTSONAME") or "").encode()
    # Debian builds a libpython yet links its interpreter without it: only a copy that loads
    # the library needs a private one.
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and soname + b"\0" in image:
        libdir = sysconfig.get_config_var("LIBDIR").encode()
        private_lib = os.path.join(directory, "lib").encode()
        if image.count(libdir + b"\0") != 1 or len(private_lib) > len(libdir):
            cannot_race("cannot point a copy of the interpreter at a private libpython")
        image = image.replace(libdir + b"\0", private_lib.ljust(len(libdir) + 1, b"\0"))
        os.makedirs(private_lib)
        library = os.path.join(private_lib.decode(), sysconfig.get_config_var("INSTSONAME"))
        shutil.copy2(os.path.join(libdir.decode(), sysconfig.get_config_var("INSTSONAME")),
                     library)
        copies.append(library)
    with open(executable, "wb") as f:
        f.write(image)
    os.chmod(executable, 0o755)
    yield copies
    shutil.rmtree(directory)


def identity(path):
    st = os.stat(path)
    return "%d:%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)


def digest(paths):
    result = []
    for path in paths:
        with open(path, "rb") as f:
            result.append(hashlib.sha256(f.read()).hexdigest())
    return result


class Attack:
    """The racer running as a container's command, and what it found."""

    def __init__(self, driver, start, racer, tmp_path, targets, owner=(0, 0), **kwargs):
        self.driver = driver
        self.shared = str(tmp_path / "shared")
        os.makedirs(self.shared, mode=0o755)
        os.chown(self.shared, *owner)       # the racer writes its log there
        shutil.copy2(racer, os.path.join(self.shared, "racer"))
        self.spec, self.io, self.outcome = start(
            ["/shared/racer", "/shared"] + [identity(path) for path in targets],
            mounts=[Mount(self.shared, "/shared")], **kwargs)
        spin(lambda: self.log().startswith("ready"))

    def path(self, name):
        return os.path.join(self.shared, name)

    def log(self):
        try:
            with open(self.path("log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def exec(self, args, **kwargs):
        return self.exec_in(self.driver, self.spec.id, args, **kwargs)

    @staticmethod
    def exec_in(driver, container_id, args, **kwargs):
        io = Recorder()
        status = wait(driver.exec(container_id, ExecSpec(args=args, **kwargs), io))
        return status, io

    def write_now(self, timeout=30.0):
        """Have the racer write through what it holds. The reactor is not run
        meanwhile: the driver cannot react to a spawner killed just before."""
        with open(self.path("now"), "w"):
            pass
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.path("done")):
            assert time.monotonic() < deadline, "the racer did not write in time"
            time.sleep(0.01)

    def finish(self):
        with open(self.path("stop"), "w"):
            pass
        spin(lambda: self.outcome)
        return self.log()

    def race_execs(self, rounds=10):
        """Exec into the container ``rounds`` times as root and as a user with a
        cwd, while the racer looks at each new process."""
        for _ in range(rounds):
            status, out = self.exec(["true"])
            assert status.exit_code == 0, out.err
            status, out = self.exec(["sh", "-c", "exit 0"], user="daemon", cwd="/tmp")
            assert status.exit_code == 0, out.err

    def findings(self, rootfs):
        """End the race (the spawner killed first, so nothing it holds is closed in
        time) and return the racer's log, the host handles it reached and the
        writes that worked through them."""
        kill_spawner(self.driver)
        self.write_now()
        log = self.finish()
        return log, host_handles(log, rootfs, self.shared), writes_that_worked(log)


def host_handles(log, *container_trees):
    """The handles the racer reached that are files or directories of the host:
    on a host filesystem and not in the container's own trees."""
    inside = set()
    for tree in container_trees:
        for directory, dirs, files in os.walk(tree):
            for name in [directory] + [os.path.join(directory, n) for n in dirs + files]:
                st = os.lstat(name)
                inside.add((st.st_dev, st.st_ino))
    with open("/proc/self/mountinfo") as f:
        host_devices = {tuple(int(n) for n in line.split()[2].split(":")) for line in f}
    found = []
    for line in log.splitlines():
        if not line.startswith("reach "):
            continue
        _, handle, device, inode, mode, target = line.split(" ", 5)
        major, minor = (int(n) for n in device.split(":"))
        if not (stat.S_ISREG(int(mode, 8)) or stat.S_ISDIR(int(mode, 8))):
            continue
        if (major, minor) in host_devices and (os.makedev(major, minor), int(inode)) not in inside:
            found.append("%s -> %s" % (handle, target))
    return found


LXC_ATTACH_LSM_ATTR = re.compile(r"^/proc/\d+/fd/\d+ -> /proc/\d+/attr/(apparmor/)?(current|exec)$")


def writes_that_worked(log):
    return [line for line in log.splitlines() if line.startswith("write ") and
            line.endswith(" ok")]


def kill_spawner(driver):
    """Kill the native driver's spawner and wait until it no longer runs (it stays
    a zombie: the reactor, which would reap it, is not run until the racer wrote)."""
    if driver.name != "native":
        return
    pid = driver._current_spawner().pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while True:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                return
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.fixture
def attack(driver, start, racer, tmp_path, private_interpreter, monkeypatch):
    monkeypatch.setattr(spawner_client, "INTERPRETER", private_interpreter[0])
    if driver.name == "native":
        wait(driver.shutdown())     # its next spawner runs the private copy
    before = digest(private_interpreter)

    def begin(**kwargs):
        return Attack(driver, start, racer, tmp_path, private_interpreter, **kwargs)
    yield begin
    assert digest(private_interpreter) == before, "the private interpreter was changed"


@pytest.mark.parametrize("cap_add", [[], ["SYS_PTRACE"], ["SYS_ADMIN"]],
                         ids=["default-caps", "sys_ptrace", "sys_admin"])
def test_execs_leave_no_host_handle_to_a_racer_in_the_container(driver, attack, rootfs,
                                                                cap_add):
    """With CAP_SYS_ADMIN, map_files would hand out the host's libraries that the
    launcher has mapped: the non-dumpable state keeps them closed to it."""
    racing = attack(cap_add=cap_add)
    racing.race_execs()
    log, handles, writes = racing.findings(rootfs)
    if driver.name == "lxc" and "SYS_PTRACE" in cap_add and sysinfo.apparmor_enabled():
        # docs/SECURITY.md: lxc-attach holds its own AppArmor attr file (of the host's procfs)
        # in the container until it execs; only that task may write it. Nothing else may show.
        handles = [h for h in handles if not LXC_ATTACH_LSM_ATTR.match(h)]
    assert (handles, writes) == ([], [])
    if "SYS_PTRACE" not in cap_add:
        # Non-dumpable until its exec: not even the sealed copy is reachable.
        assert "/memfd:" not in log


@pytest.mark.parametrize("cap_add", [[], ["SYS_PTRACE"]], ids=["default-caps", "sys_ptrace"])
def test_containers_starting_in_its_pid_namespace_leave_no_host_handle(driver, attack, run,
                                                                       rootfs, cap_add):
    """The init path of run, seen by a racer whose pid namespace the new
    containers join; their commands are ``/proc/self/exe`` (the starting
    process's own executable), a script run by it, and one under an init
    (the native driver's stays, a process of the interpreter, while it runs)."""
    racing = attack(cap_add=cap_add)
    script = os.path.join(racing.shared, "script")
    with open(script, "w") as f:
        f.write("#!/proc/self/exe\nraise SystemExit(7)\n")
    os.chmod(script, 0o755)
    joined = Namespaces(pid="/proc/%d/ns/pid" % racing.io.pid)
    mounts = [Mount(racing.shared, "/shared")]
    if driver.name == "lxc" and cap_add:
        # LXC's starting process would be open to the racer: the driver refuses.
        with pytest.raises(InvalidParameter, match="CAP_SYS_PTRACE"):
            run(["true"], namespaces=joined, mounts=mounts)
    for round_ in range(0 if driver.name == "lxc" and cap_add else 5):
        for command, init in ((["/proc/self/exe"], False), (["/shared/script"], False),
                              (["true"], False), (["sleep", "0.2"], True)):
            try:
                status, io = run(command, namespaces=joined, mounts=mounts, init=init)
            except ContainerStartError:
                continue        # the sealed interpreter finds no loader in a busybox image
            assert status.exit_code != 7     # never the host's interpreter running the script
    _, handles, writes = racing.findings(rootfs)
    assert (handles, writes) == ([], [])


# --userns-remap: the launcher then shares the uid of the container's root.
REMAPPED = {"uid_map": [[0, 100000, 65536]], "gid_map": [[0, 100000, 65536]]}


@pytest.fixture
def searchable_by_all(rootfs, tmp_path):
    """o+x on the rootfs, tmp_path and the directories above them for the test's
    time: a remapped root passes through them to mount its rootfs and binds."""
    changed = {}
    for path in (rootfs, str(tmp_path)):
        while path != "/":
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if not mode & 0o001:
                changed.setdefault(path, mode)
                os.chmod(path, mode | 0o001)
            path = os.path.dirname(path)
    yield
    for path, mode in changed.items():
        os.chmod(path, mode)


def test_a_remapped_containers_execs_leave_no_host_handle(driver, attack, rootfs, searchable_by_all):
    if driver.name == "lxc":
        pytest.skip("LXC maps ids through newuidmap, which wants root's own subordinate ranges")
    # The mount point, which the remapped root may not make in this root-owned rootfs.
    os.makedirs(os.path.join(rootfs, "shared"), exist_ok=True)
    racing = attack(userns=REMAPPED, owner=(100000, 100000))
    with open("/proc/%d/status" % racing.io.pid) as f:
        assert "Uid:\t100000\t" in f.read()
    racing.race_execs()
    _, handles, writes = racing.findings(rootfs)
    assert (handles, writes) == ([], [])


def test_the_command_starts_with_its_cwd_inside_the_root_and_only_its_stdio(driver, run, start):
    # ls lists its own fds: 0-2 from its start, and 3 for the directory it reads.
    script = "readlink /proc/self/cwd; readlink /proc/self/root; exec ls /proc/self/fd"
    status, io = run(["sh", "-c", script], cwd="/tmp")
    assert (status.exit_code, io.text.split()) == (0, ["/tmp", "/", "0", "1", "2", "3"]), io.err
    spec, _, _ = start(["sleep", "60"])
    status, out = Attack.exec_in(driver, spec.id, ["sh", "-c", script], cwd="/etc")
    assert (status.exit_code, out.text.split()) == (0, ["/etc", "/", "0", "1", "2", "3"]), out.err


def test_a_working_directory_through_an_fd_is_never_outside_the_root(driver, run, start):
    """runc's CVE-2024-21626: a WORKDIR of /proc/self/fd/N, N an fd of the
    runtime's to a host directory. Here it fails to start (as bad input), or
    the command fails, or it is a directory of the container."""
    spec, _, _ = start(["sleep", "60"])
    for fd in range(3, 12):
        cwd = "/proc/self/fd/%d" % fd
        for enter in (lambda: run(["pwd"], cwd=cwd),
                      lambda: Attack.exec_in(driver, spec.id, ["pwd"], cwd=cwd)):
            try:
                status, io = enter()
            except ContainerStartError:
                continue        # the native driver, and lxc's run
            # lxc's exec changes directory through the container's sh, which fails.
            assert status.exit_code != 0 or io.text.strip() in ("/", "/proc"), (cwd, io.text)
