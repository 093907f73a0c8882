import json

import pytest

from pydocker.daemon import config
from pydocker.daemon.options import ConfigError


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", str(tmp_path / "none.json"))
    c = config.load([])
    assert c.hosts == [("unix", "/var/run/pydocker.sock")]
    assert c.data_root == "/var/lib/pydocker" and c.exec_root == "/var/run/pydocker"
    assert c.pidfile == "/var/run/pydocker.pid" and c.cgroup_parent == "pydocker"
    assert c.log_level == "info" and c.iptables is True and c.mtu == 1500


def test_flags_parse_to_typed_values(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", str(tmp_path / "none.json"))
    c = config.load(["-H", "unix:///tmp/a.sock", "-H", "tcp://127.0.0.1:2375", "-D",
                     "--iptables=false", "--default-ulimit", "nofile=100:200", "--label", "a=b",
                     "-g", "/srv/pd", "--bip", "10.9.0.1/24", "--fixed-cidr", "10.9.0.128/25"])
    assert c.hosts == [("unix", "/tmp/a.sock"), ("tcp", ("127.0.0.1", 2375))]
    assert c.log_level == "debug" and c.iptables is False and c.ip_masq is False
    assert c.default_ulimits == [{"Name": "nofile", "Soft": 100, "Hard": 200}]
    assert c.labels_map == {"a": "b"} and c.data_root == "/srv/pd"


@pytest.mark.parametrize("args, message", [
    (["--bip", "nonsense"], "invalid CIDR address"),
    (["-H", "http://x"], "invalid host"),
    (["-H", "tcp://127.0.0.1"], "a port is required"),
    (["--mtu", "20"], "invalid MTU"),
    (["--log-level", "loud"], "invalid log level"),
    (["--default-ulimit", "nofile=10:5"], "soft limit 10 is above the hard limit 5"),
    (["--default-ulimit", "bogus=1"], "invalid ulimit type"),
    (["-b", "br0", "--bip", "10.0.0.1/24"], "mutually exclusive"),
    (["--icc=false", "--iptables=false"], "--icc=false needs --iptables=true"),
    (["--bip", "10.0.0.1/24", "--fixed-cidr", "10.1.0.0/24"], "is not inside the bridge subnet"),
    (["--registry-mirror", "mirror.local"], "invalid registry mirror"),
    (["--selinux-enabled"], "SELinux is not supported"),
    (["--iptables=maybe"], "invalid boolean value"),
])
def test_bad_values_are_clear_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", str(tmp_path / "none.json"))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        config.load(args)


def test_unknown_flag_exits_with_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", str(tmp_path / "none.json"))
    with pytest.raises(SystemExit) as exc:
        config.load(["--no-such-flag"])
    assert exc.value.code == 2
    assert "--no-such-flag" in capsys.readouterr().err


def test_daemon_json_keys_apply(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"data-root": "/srv/x", "labels": ["k=v"], "log-opts": {"max-size": "10m"},
                                "default-ulimits": {"nofile": {"Soft": 5, "Hard": 6}}, "debug": True}))
    c = config.load(["--config-file", str(path)])
    assert c.data_root == "/srv/x" and c.labels == ["k=v"] and c.log_opts == [("max-size", "10m")]
    assert c.default_ulimits == [{"Name": "nofile", "Soft": 5, "Hard": 6}] and c.log_level == "debug"


def test_key_in_flag_and_file_is_an_error(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"data-root": "/srv/x"}))
    with pytest.raises(ConfigError, match="specified both as a flag and in the configuration file: data-root"):
        config.load(["--config-file", str(path), "-g", "/srv/y"])


@pytest.mark.parametrize("text, message", [
    ("{not json", "unable to parse configuration file"),
    ('{"no-such-key": 1}', "unknown key 'no-such-key'"),
    ('{"iptables": "yes"}', "iptables: expected true or false"),
    ('{"dns": "1.1.1.1"}', "dns: expected a list"),
    ("[]", "must hold a JSON object"),
])
def test_bad_daemon_json_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "daemon.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        config.load(["--config-file", str(path)])


def test_explicit_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        config.load(["--config-file", str(tmp_path / "absent.json")])


def test_help_describes_every_flag(capsys):
    with pytest.raises(SystemExit):
        config.build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for opt in config.OPTIONS:
        assert opt.flags[-1] in text


def test_default_cgroupns_mode_follows_the_cgroup_version_and_the_kernel(tmp_path, monkeypatch):
    """Unit test: the host's cgroup version and cgroup namespace support are stand-ins here."""
    from pydocker import sysinfo
    from pydocker.drivers.exec import cgroups
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", str(tmp_path / "none.json"))
    for version, mode in ((1, "host"), (2, "private")):
        monkeypatch.setattr(cgroups, "version", lambda: version)
        assert config.load([]).default_cgroupns_mode == mode
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"default-cgroupns-mode": "host"}))
    assert config.load(["--config-file", str(path)]).default_cgroupns_mode == "host"
    monkeypatch.setattr(sysinfo, "cgroup_namespaces", lambda: False)
    with pytest.raises(ConfigError, match="this kernel has no cgroup namespaces"):
        config.load(["--default-cgroupns-mode", "private"])
