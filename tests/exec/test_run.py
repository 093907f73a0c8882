"""Running containers with each exec driver: isolation, exit codes, stdio, mounts."""

import os
import signal

import pytest

from conftest import skip_on
from exec_reactor import spin, wait
from pydocker.drivers.exec.errors import ContainerStartError
from pydocker.drivers.exec import capabilities
from pydocker.drivers.exec.spec import Mount, Namespaces, Rlimit
from pydocker.errdefs import InvalidParameter, SystemError_

pytestmark = pytest.mark.kernel


def test_command_is_pid_1_and_host_processes_are_invisible(driver, run):
    skip_on(driver, "lxc", "lxc-execute always runs init.lxc as PID 1")
    status, io = run(["sh", "-c", "cat /proc/1/cmdline; echo; ls -d /proc/[0-9]* | wc -l"])
    cmdline, count = io.text.splitlines()
    assert status.exit_code == 0
    assert cmdline.split("\0")[0] == "sh"
    assert int(count) <= 3        # sh, ls and wc: nothing from the host


def test_hostname_and_domainname(driver, run):
    skip_on(driver, "lxc", "LXC has no setting for the domain name (refused, see below)")
    status, io = run(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"],
                     hostname="web1", domainname="example.org")
    assert io.text.split() == ["web1", "example.org"]


def test_root_is_the_rootfs(run, rootfs, tmp_path):
    (tmp_path / "host-only").write_text("secret")
    status, io = run(["sh", "-c", "ls /; test -e %s && echo LEAK" % (tmp_path / "host-only")])
    assert "LEAK" not in io.text
    assert set(io.text.split()) == set(os.listdir(rootfs))


def test_proc_masks_and_readonly_paths(run):
    masked = [p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list")
              if os.path.exists(p)]
    script = "".join("wc -c < %s; " % p for p in masked)
    status, io = run(["sh", "-c", script + "ls /proc/acpi 2>/dev/null | wc -l; "
                      "echo 1 > /proc/sys/vm/drop_caches && echo WROTE; "
                      "echo x > /sys/kernel/uevent_helper && echo SYSWROTE; true"])
    sizes = io.text.split()
    assert masked and sizes[:len(masked) + 1] == ["0"] * (len(masked) + 1)
    assert "WROTE" not in io.text and "SYSWROTE" not in io.text
    assert "Read-only file system" in io.err.decode()


def test_dev_is_private_with_the_usual_nodes(driver, run):
    status, io = run(["sh", "-c", "ls /dev; echo x > /dev/null && echo null-ok; "
                      "head -c 4 /dev/zero | wc -c; readlink /dev/ptmx"])
    names = io.text.split()
    for node in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue",
                 "fd", "stdin", "stdout", "stderr"):
        assert node in names
    assert "null-ok" in names and "4" in names
    if driver.name == "native":
        assert "pts/ptmx" in names      # LXC bind-mounts /dev/pts/ptmx there instead
    assert "sda" not in names and "loop0" not in names


# /dev/loop-control (c 10:237) is not among Docker's default devices (/dev/null, c 1:3, is):
# a node of it made inside (in the container's own /dev) opens only when a device cgroup rule allows it.
@pytest.mark.parametrize("rules, opens", [([], False), (["c 10:237 r"], True), (["c 10:* rw"], True),
                                          (["b 10:237 r"], False), (["c 10:237 w"], False)])
def test_device_cgroup_rules_allow_a_node_made_inside(run, rules, opens):
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control on this host")
    status, io = run(["sh", "-c", "mknod /dev/lc c 10 237 && echo made; exec 3</dev/lc && echo opened"],
                     device_cgroup_rules=rules)
    assert io.text.split()[0] == "made", io.err
    if opens:
        assert status.exit_code == 0 and io.text.split() == ["made", "opened"], io.err
    else:
        assert status.exit_code != 0 and "Operation not permitted" in io.err.decode()


@pytest.mark.parametrize("args, code", [
    (["true"], 0),
    (["false"], 1),
    (["sh", "-c", "exit 42"], 42),
])
def test_exit_codes(run, args, code):
    status, _ = run(args)
    assert (status.exit_code, status.signal, status.oom_killed) == (code, None, False)


def test_missing_command_fails_the_start_with_127(run):
    with pytest.raises(ContainerStartError) as info:
        run(["no-such-binary"])
    assert info.value.exit_code == 127
    assert str(info.value) == 'exec: "no-such-binary": executable file not found in $PATH'


def test_missing_absolute_command_is_127(run):
    with pytest.raises(ContainerStartError) as info:
        run(["/nope/bin"])
    assert info.value.exit_code == 127
    assert "no such file or directory" in str(info.value)


def test_non_executable_command_fails_with_126(run):
    with pytest.raises(ContainerStartError) as info:
        run(["/etc/passwd"])
    assert info.value.exit_code == 126
    assert "permission denied" in str(info.value)


def test_sigkill_gives_137(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    driver.kill(spec.id, signal.SIGKILL)
    spin(lambda: outcome)
    assert (outcome[0].exit_code, outcome[0].signal) == (137, signal.SIGKILL)


def test_sigterm_through_init_gives_143(driver, start):
    spec, io, outcome = start(["sleep", "60"], init=True)
    driver.kill(spec.id, signal.SIGTERM)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 143


@pytest.mark.parametrize("init", [False, True])
def test_the_container_ends_with_its_command(run, init):
    # Docker's rule: the rest of the pid namespace (a background child, an orphan) is killed
    # when the command exits. LXC's init used to wait for them: the run lasted 1000 s.
    status, io = run(["sh", "-c", "sleep 1000 & (sleep 1000 &) ; echo started; exit 3"], init=init)
    assert io.text == "started\n"
    assert status.exit_code == 3


def test_init_is_pid_1_and_reaps(driver, run):
    status, io = run(["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$"], init=True)
    init_cmdline, shell_pid = io.text.splitlines()
    assert ("init" if driver.name == "lxc" else "pydocker") in init_cmdline
    assert shell_pid != "1"
    assert status.exit_code == 0


def test_stdout_stderr_and_env(run):
    status, io = run(["sh", "-c", "echo out; echo err >&2; echo $FOO; echo $HOME"],
                     env=["PATH=/bin", "FOO=bar"])
    assert io.text.split() == ["out", "bar", "/root"]
    assert io.err == b"err\n"


def test_stdin_is_forwarded_and_closed(driver, start):
    spec, io, outcome = start(["sh", "-c", "cat; echo done"], open_stdin=True)
    io.stdin.write(b"hello\n")
    io.stdin.close()
    spin(lambda: outcome)
    assert io.text == "hello\ndone\n"


def test_tty_and_resize(driver, start):
    spec, io, outcome = start(["sh", "-c", "read line; stty size; test -t 0 && echo TTY"],
                              tty=True, open_stdin=True)
    assert io.stdin.master_fd is not None
    driver.resize(spec.id, 33, 101)
    io.stdin.write(b"go\n")
    spin(lambda: outcome)
    assert "33 101" in io.text and "TTY" in io.text
    assert outcome[0].exit_code == 0


def test_a_tty_is_a_pty_of_the_containers_own_devpts(driver, start):
    """As runc's console socket: the terminal comes from the container's devpts instance
    (pts 0, also its /dev/console), never from the host's, and its output reaches the
    daemon as the container's pty wrote it ("\n" as "\r\n", nothing added)."""
    spec, io, outcome = start(["sh", "-c", "tty; [ /dev/console -ef /proc/self/fd/0 ] && echo console; "
                                           "ls /dev/pts | tr '\\n' ' '; printf 'a\\r\\nb\\n'"], tty=True)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 0, io.out
    assert io.out == b"/dev/pts/0\r\nconsole\r\n0 ptmx a\r\r\nb\r\n"


def test_the_console_has_devpts_mode_group_tty(driver, start):
    """/dev/console and /dev/pts/0 as runc leaves them: 0620, group tty (5), on both drivers
    (LXC chmods its stdio to 0700 just before init: the lxc driver undoes that before the start
    is reported, so the command looks once it is told to)."""
    spec, io, outcome = start(["sh", "-c", "read go; stat -c '%a %g' /dev/console /dev/pts/0"],
                              tty=True, open_stdin=True)
    io.stdin.write(b"go\n")
    spin(lambda: outcome)
    assert outcome[0].exit_code == 0, io.out
    assert io.text.split("\r\n")[-3:] == ["620 5", "620 5", ""], io.out


@pytest.mark.parametrize("tty", [False, True])
def test_a_user_owns_its_stdio(run, tty):
    """As runc: a non-root user may reopen its stdio (``echo > /dev/stdout``), which it owns."""
    status, io = run(["sh", "-c", "echo out > /dev/stdout && echo err > /dev/stderr && "
                      "stat -L -c %u /proc/self/fd/0 /proc/self/fd/1"], user="1000", tty=tty)
    assert status.exit_code == 0, io.out + io.err
    assert io.text.split() == ["out", "err", "1000", "1000"] if tty else \
        (io.text.split(), io.err) == (["out", "1000", "1000"], b"err\n")


def test_working_directory_is_created(run):
    status, io = run(["pwd"], cwd="/srv/app")
    assert io.text == "/srv/app\n"


def test_working_directory_that_is_a_file_fails_the_start(run):
    with pytest.raises(ContainerStartError) as info:
        run(["pwd"], cwd="/etc/passwd")
    assert "not a directory" in str(info.value)


def test_bind_mounts_tmpfs_and_readonly(run, tmp_path):
    (tmp_path / "data.txt").write_text("from host")
    mounts = [Mount(str(tmp_path), "/data", readonly=True),
              Mount("", "/scratch", type="tmpfs", options=["size=1m"])]
    status, io = run(["sh", "-c", "cat /data/data.txt; echo; touch /data/x || echo RO; "
                      "touch /scratch/x && echo TMPFS; grep /scratch /proc/mounts"],
                     mounts=mounts)
    assert io.text.splitlines()[:3] == ["from host", "RO", "TMPFS"]
    assert "tmpfs" in io.text
    assert not (tmp_path / "x").exists()


def test_mount_through_symlink_stays_inside_rootfs(driver, run, rootfs, tmp_path):
    os.symlink("/../../../..%s" % tmp_path, os.path.join(rootfs, "escape"))
    try:
        source = tmp_path / "src"
        source.mkdir()
        (source / "f").write_text("x")
        try:
            run(["ls", "/escape/"], mounts=[Mount(str(source), "/escape/into")])
        except SystemError_ as e:
            # LXC refuses any symlink on a mount's path, where the native driver resolves it.
            assert driver.name == "lxc" and "symbolic link" in str(e)
        assert not (tmp_path / "into").exists()
    finally:
        os.unlink(os.path.join(rootfs, "escape"))


def test_readonly_rootfs(run):
    status, io = run(["sh", "-c", "touch /x || echo RO; touch /dev/shm/x && echo SHM"],
                     readonly_rootfs=True)
    assert io.text.split() == ["RO", "SHM"]


def test_network_none_has_only_loopback_and_the_hook_sees_the_pid(run):
    seen = []

    def hook(pid):
        seen.append(os.readlink("/proc/%d/ns/net" % pid))
    status, io = run(["sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1; "
                      "readlink /proc/self/ns/net"], network_hook=hook)
    lines = [line.strip() for line in io.text.splitlines()]
    assert lines[:-1] == ["lo"]
    assert seen == [lines[-1]] and seen[0] != os.readlink("/proc/self/ns/net")


def test_network_host_shares_the_namespace(run):
    status, io = run(["readlink", "/proc/self/ns/net"], namespaces=Namespaces(network="host"))
    assert io.text.strip() == os.readlink("/proc/self/ns/net")


def test_failing_network_hook_aborts_the_start(driver, make_spec):
    from conftest import Recorder

    def hook(pid):
        raise RuntimeError("no bridge")
    io = Recorder()
    with pytest.raises(RuntimeError, match="no bridge"):
        wait(driver.run(make_spec(["true"], network_hook=hook), io))
    assert io.pid is None


def test_ulimits(run):
    status, io = run(["sh", "-c", "ulimit -n; ulimit -Hn"],
                     rlimits=[Rlimit("nofile", 1024, 2048)])
    assert io.text.split() == ["1024", "2048"]


def test_raising_a_hard_limit_without_cap_sys_resource_is_a_clear_error(run):
    import resource
    if "SYS_RESOURCE" in capabilities.held():
        pytest.skip("the daemon holds CAP_SYS_RESOURCE here, so it may raise a hard limit")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("the nofile hard limit is unlimited here")
    with pytest.raises(ContainerStartError) as info:
        run(["true"], rlimits=[Rlimit("nofile", hard + 1, hard + 1)])
    if "operation not permitted" not in str(info.value):
        pytest.fail(str(info.value))
    assert str(info.value) == ("cannot raise nofile hard limit above %d: operation not permitted"
                               % hard)


def test_bad_input_is_rejected_before_anything_starts(driver, make_spec):
    from conftest import Recorder
    before = sorted(os.listdir(driver._home))     # the driver's own files (lxc: its hook)
    for bad in (make_spec([]), make_spec(["true"], cap_add=["NOT_A_CAP"]),
                make_spec(["true"], rlimits=[Rlimit("bogus", 1, 1)]),
                make_spec(["true"], mounts=[Mount("/nonexistent-src", "/x")])):
        with pytest.raises(InvalidParameter):
            driver.run(bad, Recorder())
    assert sorted(os.listdir(driver._home)) == before


def test_joining_another_containers_network_namespace(driver, start, run):
    spec, io, outcome = start(["sleep", "60"])
    netns = "/proc/%d/ns/net" % io.pid
    status, out = run(["readlink", "/proc/self/ns/net"], namespaces=Namespaces(network=netns))
    assert out.text.strip() == os.readlink(netns)


@pytest.mark.parametrize("pid_namespace", ["private", "joined"])
def test_a_bind_on_a_proc_file_shows_over_proc(driver, start, run, tmp_path, pid_namespace):
    """As lxcfs's files over /proc/uptime: also when the container joins another
    container's pid namespace, where the native driver builds the mounts before
    /proc can be mounted (tests/exec/test_escape.py says why)."""
    uptime = tmp_path / "uptime"
    uptime.write_text("12.00 34.00\n")
    namespaces = Namespaces()
    if pid_namespace == "joined":
        spec, io, outcome = start(["sleep", "60"])
        namespaces = Namespaces(pid="/proc/%d/ns/pid" % io.pid)
    status, out = run(["sh", "-c", "cat /proc/uptime; test -d /proc/self/fd && echo PROC"],
                      namespaces=namespaces,
                      mounts=[Mount(str(uptime), "/proc/uptime", readonly=True)])
    assert (status.exit_code, out.text) == (0, "12.00 34.00\nPROC\n"), out.err


def test_host_pid_namespace_shows_host_processes(run):
    status, io = run(["sh", "-c", "echo $$; test -d /proc/%d && echo HOST" % os.getpid()],
                     namespaces=Namespaces(pid="host"))
    shell_pid, seen = io.text.split()
    assert shell_pid != "1" and seen == "HOST"


def test_stdin_is_closed_unless_open_stdin(run):
    status, io = run(["sh", "-c", "cat; echo eof"])
    assert io.text == "eof\n"


def test_no_file_descriptors_leak_in_the_daemon(run):
    def count():
        return len(os.listdir("/proc/self/fd"))
    run(["true"])                       # warm up: the reactor's own fds
    before = count()
    for tty in (False, True, False):
        run(["sh", "-c", "echo x"], tty=tty)
    with pytest.raises(ContainerStartError):
        run(["missing"])
    assert count() == before


def test_file_bind_mounts_like_etc_hostname(run, tmp_path):
    hostname_file = tmp_path / "hostname"
    hostname_file.write_text("from-daemon\n")
    status, io = run(["cat", "/etc/hostname"],
                     mounts=[Mount(str(hostname_file), "/etc/hostname")])
    assert io.text == "from-daemon\n"


def test_lxc_refuses_what_it_cannot_do(driver, make_spec):
    skip_on(driver, "native", "the native driver supports these")
    from conftest import Recorder
    for bad in (make_spec(["true"], domainname="example.org"),
                make_spec(["true"], group_add=["daemon"])):
        with pytest.raises(InvalidParameter, match="lxc exec driver cannot"):
            driver.run(bad, Recorder())


def test_native_refuses_lxc_conf(driver, make_spec):
    skip_on(driver, "lxc", "the lxc driver applies LxcConf")
    from conftest import Recorder
    with pytest.raises(InvalidParameter, match="lxc"):
        driver.run(make_spec(["true"], lxc_conf=[("lxc.cap.drop", "chown")]), Recorder())
