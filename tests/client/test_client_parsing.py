"""Host addresses, flag parsing and run/create option translation."""

import pytest

from pydocker.client.errors import ClientError
from pydocker.client.flags import FlagSet, HelpRequested, UsageError
from pydocker.client.hosts import DEFAULT_HOST, HostError, parse_host


@pytest.mark.parametrize("value, tls, url", [
    ("", False, DEFAULT_HOST),
    ("unix:///run/x.sock", False, "unix:///run/x.sock"),
    ("tcp://example.com", False, "tcp://example.com:2375"),
    ("tcp://example.com", True, "tcp://example.com:2376"),
    ("tcp://10.0.0.1:1234", True, "tcp://10.0.0.1:1234"),
    ("tcp://[::1]", False, "tcp://[::1]:2375"),
    ("tcp://[::1]:99", False, "tcp://[::1]:99"),
    ("myhost:4243", False, "tcp://myhost:4243"),
    ("tcp://:2375", False, "tcp://localhost:2375"),
])
def test_parse_host(value, tls, url):
    assert parse_host(value, tls=tls).url == url


@pytest.mark.parametrize("value", ["ssh://user@host", "tcp://host:port", "fd://"])
def test_parse_host_rejects_what_the_client_cannot_use(value):
    with pytest.raises(HostError):
        parse_host(value)


def test_environment_selects_host_tls_and_pinned_version(monkeypatch, tmp_path):
    from pydocker.client.cli import CLI, GLOBAL_FLAGS

    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    monkeypatch.setenv("DOCKER_HOST", "tcp://daemon.example")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    monkeypatch.setenv("DOCKER_API_VERSION", "1.40")
    opts, _ = GLOBAL_FLAGS.parse(["ps"])
    api = CLI(opts).api
    assert api.host.url == "tcp://daemon.example:2376"
    assert api.transport.tls.verify is True
    assert api.transport.tls.cacert == str(tmp_path / "ca.pem")
    assert api.transport.tls.cert == str(tmp_path / "cert.pem")
    assert api.version == "1.40"  # pinned: no negotiation round trip


def test_host_flag_wins_over_environment_and_defaults_to_pydocker_socket(monkeypatch):
    from pydocker.client.cli import CLI, GLOBAL_FLAGS

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    opts, _ = GLOBAL_FLAGS.parse(["version"])
    assert CLI(opts).api.host.url == "unix:///var/run/pydocker.sock"
    monkeypatch.setenv("DOCKER_HOST", "tcp://elsewhere:1")
    opts, _ = GLOBAL_FLAGS.parse(["-H", "tcp://here", "version"])
    api = CLI(opts).api
    assert api.host.url == "tcp://here:2375"
    assert api.transport.tls is None


def test_flags_bundle_glue_and_stop_at_first_positional():
    flags = FlagSet("run IMAGE", interspersed=False)
    flags.bool("-i", "--interactive")
    flags.bool("-t", "--tty")
    flags.bool("--rm")
    flags.list("-e", "--env")
    flags.string("--name")
    flags.int("--stop-timeout")
    opts, args = flags.parse(["-it", "-eA=1", "--env", "B=2", "-e=C=3", "--name=x",
                              "--rm=false", "--stop-timeout", "5", "busybox", "ls", "-l"])
    assert opts.interactive and opts.tty and not opts.rm
    assert opts.env == ["A=1", "B=2", "C=3"]
    assert (opts.name, opts.stop_timeout) == ("x", 5)
    assert args == ["busybox", "ls", "-l"]
    assert opts.given("name") and opts.given("interactive") and not opts.given("detach_keys")


def test_flag_errors_are_usage_errors():
    flags = FlagSet("ps", max_args=0)
    flags.int("-n")
    with pytest.raises(UsageError, match="unknown flag: --nope"):
        flags.parse(["--nope"])
    with pytest.raises(UsageError, match="flag needs an argument"):
        flags.parse(["-n"])
    with pytest.raises(UsageError, match="invalid syntax"):
        flags.parse(["-n", "x"])
    with pytest.raises(UsageError, match="accepts no arguments"):
        flags.parse(["extra"])
    with pytest.raises(HelpRequested):
        flags.parse(["--help"])


def _run_opts(*argv):
    from pydocker.client.commands.run import _flags

    return _flags("run").parse(list(argv) + ["busybox"])[0]


def test_run_flags_become_the_create_body():
    from pydocker.client.runconfig import container_spec

    opts = _run_opts("-it", "--rm", "--name", "web", "-e", "A=1", "-w", "/srv", "-u", "1:1",
                     "-h", "box", "-v", "/host:/ctr:ro", "-v", "/anon", "-p", "8080:80",
                     "-p", "127.0.0.1::53/udp", "--restart", "no", "-l", "k=v",
                     "--entrypoint", "/bin/sh", "-m", "64m", "--memory-swap", "-1",
                     "--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
                     "--pids-limit", "20", "--ulimit", "nofile=100:200", "--cap-add",
                     "NET_ADMIN", "--cap-drop", "ALL", "--read-only", "--stop-signal",
                     "SIGINT", "--stop-timeout", "3", "--init", "--dns", "10.0.0.2",
                     "--tmpfs", "/run:size=1m", "--mount",
                     "type=bind,src=/a,dst=/b,readonly", "--network", "mynet",
                     "--network-alias", "db", "--security-opt", "no-new-privileges",
                     "--device-cgroup-rule", "c 10:237 r")
    body, name = container_spec(opts, "busybox", ["sh", "-c", "true"])
    host = body["HostConfig"]
    assert name == "web"
    assert body["Tty"] and body["OpenStdin"] and body["AttachStdin"] and body["StdinOnce"]
    assert body["Env"] == ["A=1"] and body["WorkingDir"] == "/srv" and body["User"] == "1:1"
    assert body["Cmd"] == ["sh", "-c", "true"] and body["Entrypoint"] == ["/bin/sh"]
    assert body["Volumes"] == {"/anon": {}} and host["Binds"] == ["/host:/ctr:ro"]
    assert body["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert host["AutoRemove"] is True and host["RestartPolicy"]["Name"] == ""
    assert host["Memory"] == 64 << 20 and host["MemorySwap"] == -1
    assert host["NanoCpus"] == 1_500_000_000 and host["CpuShares"] == 512
    assert host["PidsLimit"] == 20 and host["CpusetCpus"] == "0"
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 100, "Hard": 200}]
    assert host["CapAdd"] == ["NET_ADMIN"] and host["CapDrop"] == ["ALL"]
    assert host["ReadonlyRootfs"] and host["Init"] is True
    assert body["StopSignal"] == "SIGINT" and body["StopTimeout"] == 3
    assert host["Tmpfs"] == {"/run": "size=1m"}
    assert host["Mounts"] == [{"Type": "bind", "Source": "/a", "Target": "/b",
                               "ReadOnly": True}]
    assert host["NetworkMode"] == "mynet"
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"mynet": {"Aliases": ["db"]}}}
    assert body["Labels"] == {"k": "v"} and host["SecurityOpt"] == ["no-new-privileges"]
    assert host["DeviceCgroupRules"] == ["c 10:237 r"]


def test_detached_run_attaches_nothing():
    from pydocker.client.runconfig import container_spec

    body, _ = container_spec(_run_opts("-d"), "busybox", [])
    assert not (body["AttachStdin"] or body["AttachStdout"] or body["AttachStderr"])
    assert body["Cmd"] is None


def test_env_file_and_bare_variables(tmp_path, monkeypatch):
    from pydocker.client.runconfig import env_list

    monkeypatch.setenv("FROM_HOST", "h")
    monkeypatch.delenv("UNSET_VAR", raising=False)
    env_file = tmp_path / "env"
    env_file.write_text("# comment\n\nX=1\nFROM_HOST\n")
    assert env_list(["Y=2", "UNSET_VAR"], [str(env_file)]) == ["X=1", "FROM_HOST=h", "Y=2"]


@pytest.mark.parametrize("argv, message", [
    (["--rm", "--restart", "always"], "Conflicting options"),
    (["--restart", "sometimes"], "invalid restart policy"),
    (["-m", "lots"], "--memory"),
    (["--cpus", "two"], "--cpus"),
    (["-p", "99999:80"], "invalid port"),
    (["-v", "relative:path"], "must be absolute"),
    (["--ulimit", "nofile=9:1"], "soft limit"),
    (["--mount", "type=bind,dst=/x"], "source is required"),
    (["--mount", "type=nope,dst=/x"], "invalid mount type"),
])
def test_bad_run_options_fail_before_any_request(argv, message):
    from pydocker.client.runconfig import container_spec

    with pytest.raises(ClientError, match=message):
        container_spec(_run_opts(*argv), "busybox", [])
