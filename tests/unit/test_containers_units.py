"""Pure pieces of the container code: validation, config merging, names, logs, detach keys,
restart policies."""

import json
import random

import pytest

from pydocker.containers import createconfig, names
from pydocker.logdrivers import jsonfile
from pydocker.containers.model import ContainerIndex, Container
from pydocker.errdefs import Conflict, InvalidParameter, NotFound
from pydocker.images.config import apply_changes
from pydocker.jobs.attach import DetachMatcher, parse_detach_keys
from pydocker.jobs.containers import merge_image_config
from pydocker.jobs.logs import frame
from pydocker.runtime import restart
from pydocker.runtime.signals import parse_signal


@pytest.mark.parametrize("body, message", [
    ({"Image": "b", "Cmd": 5}, "invalid type for field Cmd"),
    ({"Image": "b", "Env": "A=1"}, "invalid type for field Env"),
    ({"Image": "b", "HostConfig": {"Memory": "1g"}}, "invalid type for field HostConfig.Memory: expected integer, got string"),
    ({"Image": "b", "HostConfig": {"Privileged": 1}}, "HostConfig.Privileged: expected boolean"),
    ({"Image": "b", "HostConfig": {"Memory": 1024}}, "Minimum memory limit allowed is 6MB"),
    ({"Image": "b", "HostConfig": {"AutoRemove": True, "RestartPolicy": {"Name": "always"}}}, "cannot specify both --restart and --rm"),
    ({"Image": "b", "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}, "invalid restart policy"),
    ({"Image": "b", "HostConfig": {"NanoCpus": 10**15}}, "Range of CPUs"),
    ({"Image": "b", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 5}]}}, "soft limit"),
    ({"Cmd": ["true"]}, "Image is required"),
    # what dockerd refuses at create, not first at start (issue 15)
    ({"Image": "b", "Env": ["=x"]}, r"invalid environment variable: =x \(Env\)"),
    ({"Image": "b", "Env": ["A=b\0c"]}, r"NUL byte \(Env\)"),
    ({"Image": "b", "Hostname": "h" * 65}, r"too long \(maximum 64 bytes\) \(Hostname\)"),
    ({"Image": "b", "WorkingDir": "rel"}, r"needs to be an absolute path \(WorkingDir\)"),
    ({"Image": "b", "StopSignal": "SIGFOO"}, r"Invalid signal: SIGFOO \(StopSignal\)"),
    ({"Image": "b", "HostConfig": {"MemorySwappiness": 101}}, r"swappiness range is 0-100 \(HostConfig.MemorySwappiness\)"),
    ({"Image": "b", "HostConfig": {"MemoryReservation": 1 << 20}}, r"memory reservation allowed is 6MB"),
    ({"Image": "b", "HostConfig": {"OomScoreAdj": -1001}}, r"range for oom score adj is \[-1000, 1000\]"),
    ({"Image": "b", "HostConfig": {"ShmSize": -1}}, r"SHM size can not be less than 0 \(HostConfig.ShmSize\)"),
    ({"Image": "b", "HostConfig": {"Tmpfs": {"run": ""}}}, r"'run' mount path must be absolute \(HostConfig.Tmpfs\)"),
    ({"Image": "b", "HostConfig": {"Tmpfs": {"/": ""}}}, r"destination can't be '/'"),
    ({"Image": "b", "HostConfig": {"Devices": [{"PathOnHost": "/dev/null", "CgroupPermissions": "rwx"}]}},
     r"invalid device cgroup permissions 'rwx': r, w and m only \(HostConfig.Devices\[0\].CgroupPermissions\)"),
    ({"Image": "b", "HostConfig": {"DeviceCgroupRules": ["c 1:3 mr", "c 1:3"]}},
     r"invalid device cgroup rule format: 'c 1:3' \(HostConfig.DeviceCgroupRules\[1\]\)"),
])
def test_create_body_validation_names_the_problem(body, message):
    with pytest.raises(InvalidParameter, match=message):
        createconfig.validate_create(body)


def test_create_accepts_the_edges_dockerd_accepts():
    config, host_config, _ = createconfig.validate_create({
        "Image": "b", "Env": ["A=", "HOME"], "Hostname": "h" * 64, "WorkingDir": "/w", "StopSignal": "9",
        "HostConfig": {"MemorySwappiness": -1, "OomScoreAdj": -1000, "ShmSize": 0, "Tmpfs": {"/run": "size=1m"},
                       "DeviceCgroupRules": ["a *:* rwm", "b 7:* r", "c *:3 mw"]}})
    assert host_config["DeviceCgroupRules"] == ["a *:* rwm", "b 7:* r", "c *:3 mw"]


def test_an_execs_env_may_unset_but_not_name_nothing():
    createconfig.check_env(["", "HOME", "A=1"], "Env", unsets=True)
    for bad in (["=x"], ["A=\0"]):
        with pytest.raises(InvalidParameter, match=r"invalid environment variable.*\(Env\)"):
            createconfig.check_env(bad, "Env", unsets=True)
    with pytest.raises(InvalidParameter):
        createconfig.check_env([""], "Env")     # a container's "" is refused, as dockerd


@pytest.mark.parametrize("host_config, message", [
    ({"CapAdd": ["NET_ADMIN", "FLY"]}, r'invalid CapAdd: unknown capability: "CAP_FLY"'),
    ({"CapDrop": ["cap_swim"]}, r'invalid CapDrop: unknown capability: "CAP_SWIM"'),
    ({"CpusetCpus": "0-"}, r"Invalid value 0- for cpuset cpus: invalid format: 0- \(HostConfig.CpusetCpus\)"),
    ({"CpusetCpus": "4096"}, r"Requested CPUs are not available - requested 4096, available: "),
    ({"CpusetMems": "1-0"}, r"Invalid value 1-0 for cpuset mems"),
    ({"CpusetMems": "4096"}, r"Requested memory nodes are not available"),
])
def test_create_refuses_what_this_host_cannot_give(host_config, message):
    with pytest.raises(InvalidParameter, match=message):
        createconfig.verify_on_host(host_config)


def test_create_refuses_capabilities_the_daemon_does_not_hold(monkeypatch):
    from pydocker.drivers.exec import capabilities
    # A stand-in bounding set (mock): this process may hold every capability.
    monkeypatch.setattr(capabilities, "held", lambda: ["CHOWN", "KILL"])
    with pytest.raises(InvalidParameter, match=r'not available in the current environment: "CAP_NET_ADMIN"'):
        createconfig.verify_on_host({"CapAdd": ["net_admin", "KILL"]})
    createconfig.verify_on_host({"CapAdd": ["ALL"], "CapDrop": ["NET_ADMIN"]})  # a drop of one not held is harmless


def test_id_lists_as_the_kernel_writes_them():
    from pydocker import sysinfo
    assert sysinfo.parse_id_list("0-2,5") == {0, 1, 2, 5}
    assert sysinfo.parse_id_list("3") == {3}
    for bad in ("", "a", "1,", "2-1", "-1", "1-2-3"):
        with pytest.raises(ValueError, match="invalid format"):
            sysinfo.parse_id_list(bad)


def test_create_accepts_string_cmd():
    config, host_config, _ = createconfig.validate_create({"Image": "b", "Cmd": "true", "HostConfig": {"Memory": 64 << 20}})
    assert config["Cmd"] == ["true"] and host_config["Memory"] == 64 << 20


def test_merge_image_config_like_dockerd():
    image = {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "WorkingDir": "/app", "Labels": {"x": "1"},
             "ExposedPorts": {"80/tcp": {}}}
    merged = merge_image_config({"Image": "b", "Env": ["A=2"], "Labels": {"y": "2"}}, image)
    assert merged["Env"] == ["PATH=/bin", "A=2"] and merged["Cmd"] == ["sh"]
    assert merged["WorkingDir"] == "/app" and merged["Labels"] == {"x": "1", "y": "2"}
    assert merged["ExposedPorts"] == {"80/tcp": {}}
    with_entrypoint = merge_image_config({"Image": "b", "Entrypoint": ["echo"]}, image)
    assert not with_entrypoint.get("Cmd")  # a new entrypoint drops the image's Cmd
    with pytest.raises(InvalidParameter, match="no command specified"):
        merge_image_config({"Image": "b"}, {})


def test_generated_names_are_unique_and_valid():
    taken = set()
    rng = random.Random(1)
    for _ in range(200):
        name = names.generate(taken.__contains__, rng)
        assert name not in taken and names.NAME_RE.match(name)
        taken.add(name)
    with pytest.raises(InvalidParameter):
        names.validate("a")
    assert names.validate("/ok-name") == "ok-name"


def make(cid, name):
    return Container(id=cid, name=name, image_id="sha256:x", image_name="b", created=0, config={}, host_config={})


def test_index_lookup_by_id_name_and_prefix():
    index = ContainerIndex()
    a, b = make("abc123" + "0" * 58, "alpha"), make("abd456" + "0" * 58, "beta")
    index.add(a)
    index.add(b)
    assert index.get("alpha") is a and index.get("/beta") is b and index.get("abc") is a
    with pytest.raises(NotFound, match="multiple containers"):
        index.get("ab")
    with pytest.raises(Conflict, match="already in use"):
        index.add(make("f" * 64, "alpha"))
    index.rename(a, "gamma")
    assert index.get("gamma") is a and not index.name_taken("alpha")


def test_json_log_format_and_rotation(tmp_path):
    path = str(tmp_path / "c-json.log")
    writer = jsonfile.JSONFileWriter(path, max_size=200, max_file=3)
    seen = []
    writer.follow(seen.append)
    for i in range(20):
        writer.write("stdout", f"line {i}\n".encode())
    writer.write("stderr", b"partial")
    writer.close()
    assert jsonfile.log_files(path) == [path + ".2", path + ".1", path]
    entries = jsonfile.read_entries(path)
    assert entries[-1]["log"] == "partial" and entries[-1]["stream"] == "stderr"
    assert [e["log"] for e in entries[:-1]] == [f"line {i}\n" for i in range(20)][-len(entries) + 1:]
    assert seen[-1] is None and len(seen) == 22
    with open(path) as f:
        assert set(json.loads(f.readline())) == {"log", "stream", "time"}
    assert [e["log"] for e in jsonfile.read_entries(path, tail=2)] == ["line 19\n", "partial"]


def test_log_options():
    assert jsonfile.parse_options({"max-size": "10m", "max-file": "3"}) == (10 * 1024 * 1024, 3)
    assert jsonfile.parse_options({"max-file": "3"}) == (None, 3)      # accepted, unused: dockerd
    with pytest.raises(InvalidParameter):
        jsonfile.parse_options({"max-file": "0"})
    with pytest.raises(InvalidParameter):
        jsonfile.parse_options({"bogus": "1"})


def test_stdcopy_frame():
    assert frame("stderr", b"hi") == b"\x02\x00\x00\x00\x00\x00\x00\x02hi"


def test_detach_keys_across_chunks():
    keys = parse_detach_keys("ctrl-p,ctrl-q")
    assert keys == b"\x10\x11"
    m = DetachMatcher(keys)
    assert m.feed(b"abc\x10") == (b"abc", False)
    assert m.feed(b"x") == (b"\x10x", False)
    assert m.feed(b"\x10") == (b"", False)
    assert m.feed(b"\x11rest") == (b"", True)
    with pytest.raises(InvalidParameter):
        parse_detach_keys("ctrl-1")


def test_restart_policy_and_backoff():
    assert restart.should_restart({"Name": "always"}, 0, 5, False)
    assert not restart.should_restart({"Name": "always"}, 0, 0, True)
    assert restart.should_restart({"Name": "on-failure", "MaximumRetryCount": 2}, 1, 1, False)
    assert not restart.should_restart({"Name": "on-failure", "MaximumRetryCount": 2}, 1, 2, False)
    assert not restart.should_restart({"Name": "on-failure"}, 0, 0, False)
    b = restart.Backoff()
    assert [b.next(0), b.next(0), b.next(0), b.next(11)] == [0.1, 0.2, 0.4, 0.1]


def test_signals():
    assert parse_signal("TERM") == 15 and parse_signal("SIGKILL") == 9 and parse_signal("2") == 2
    with pytest.raises(InvalidParameter):
        parse_signal("SIGNOPE")


def test_change_instructions():
    config = apply_changes({}, ['CMD ["/bin/sh"]', "ENV A=1 B=2", "EXPOSE 80 53/udp", "WORKDIR /a",
                                "WORKDIR b", "USER nobody", "LABEL k=v", "VOLUME /data"])
    assert config == {"Cmd": ["/bin/sh"], "Env": ["A=1", "B=2"], "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
                      "WorkingDir": "/a/b", "User": "nobody", "Labels": {"k": "v"}, "Volumes": {"/data": {}}}
    assert apply_changes({}, ["CMD echo hi"])["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    with pytest.raises(InvalidParameter, match="not a valid change command"):
        apply_changes({}, ["RUN rm -rf /"])
