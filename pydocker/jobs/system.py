"""System jobs: ping, version, info, events, commands."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from twisted.internet import defer

from pydocker import API_VERSION, MIN_API_VERSION, __version__, sysinfo
from pydocker.errdefs import InvalidParameter
from pydocker.engine.events import EventFilter
from pydocker.store import schema


class SystemJobs:
    """ping, version, info, events and the list of jobs. Reactor thread."""

    def __init__(self, engine, db, events, graph, execdriver, network, logdrivers, config, daemon_id, idmap=None):
        self.engine = engine
        self.network = network
        self.db = db
        self.events = events
        self.graph = graph
        self.execdriver = execdriver
        self.logdrivers = logdrivers
        self.config = config
        self.daemon_id = daemon_id
        self.idmap = idmap

    def jobs(self):
        return {"ping": ping, "version": version, "info": info, "events": events, "commands": commands}


def ping(svc, job):
    return "OK"


def commands(svc, job):
    return [{"Name": name} for name in svc.engine.handlers()]


_GIT_COMMIT = None


def git_commit():
    """The commit pydocker runs from, when it runs from a git checkout."""
    global _GIT_COMMIT
    if _GIT_COMMIT is None:
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        try:
            out = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True, timeout=5)
            _GIT_COMMIT = out.stdout.strip() if out.returncode == 0 else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            _GIT_COMMIT = "unknown"
    return _GIT_COMMIT


def version_document():
    python = f"python{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    details = {
        "ApiVersion": API_VERSION,
        "Arch": sysinfo.go_arch(),
        "BuildTime": "",
        "Experimental": "false",
        "GitCommit": git_commit(),
        "GoVersion": python,
        "KernelVersion": sysinfo.kernel_version(),
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
    }
    return {
        "Platform": {"Name": "pydocker"},
        "Components": [{"Name": "Engine", "Version": __version__, "Details": details}],
        "Version": __version__,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": details["GitCommit"],
        "GoVersion": python,
        "Os": "linux",
        "Arch": details["Arch"],
        "KernelVersion": details["KernelVersion"],
        "BuildTime": "",
    }


def version(svc, job):
    return svc.engine.run_blocking(version_document)


def _counts(conn):
    states = [json.loads(s) for (s,) in conn.execute(select(schema.containers.c.state))]
    running = sum(1 for s in states if s.get("Running") and not s.get("Paused"))
    paused = sum(1 for s in states if s.get("Paused"))
    images = conn.execute(select(func.count()).select_from(schema.images)).scalar()
    return {"Containers": len(states), "ContainersRunning": running, "ContainersPaused": paused,
            "ContainersStopped": len(states) - running - paused, "Images": images}


@defer.inlineCallbacks
def info(svc, job):
    counts = yield svc.db.run(_counts)
    doc = yield svc.engine.run_blocking(_host_info, svc)
    doc.update(counts)
    doc["Plugins"]["Network"] = svc.network.plugins()
    return doc


def _host_info(svc):
    config = svc.config
    os_name, os_version = sysinfo.operating_system()
    graph, execdriver = svc.graph, svc.execdriver
    cgroup_v = sysinfo.cgroup_version()
    v1 = cgroup_v == "1"
    insecure = [r for r in config.insecure_registries if "/" in r]
    index_configs = {
        "docker.io": {"Name": "docker.io", "Mirrors": list(config.registry_mirrors),
                      "Secure": True, "Official": True},
    }
    for registry in config.insecure_registries:
        if "/" not in registry:
            index_configs[registry] = {"Name": registry, "Mirrors": [], "Secure": False, "Official": False}
    return {
        "ID": svc.daemon_id,
        "Driver": graph.name if graph else "",
        "DriverStatus": [list(kv) for kv in graph.status()] if graph else [],
        "Plugins": {
            "Volume": ["local"],
            "Authorization": None,
            "Log": sorted(svc.logdrivers),
        },
        "MemoryLimit": True,
        "SwapLimit": sysinfo.cgroup_v1_has("memory", "memory.memsw.limit_in_bytes") if v1 else True,
        "KernelMemory": execdriver.kernel_memory_enforced(),
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "OomKillDisable": v1,
        "IPv4Forwarding": sysinfo.ip_forwarding(),
        "BridgeNfIptables": sysinfo.bridge_nf("iptables"),
        "BridgeNfIp6tables": sysinfo.bridge_nf("ip6tables"),
        "Debug": config.log_level == "debug",
        "NFd": sysinfo.open_fds(),
        "NGoroutines": threading.active_count(),
        "SystemTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()),
        "LoggingDriver": config.log_driver,
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_v,
        "NEventsListener": svc.events.listener_count(),
        "KernelVersion": sysinfo.kernel_version(),
        "OperatingSystem": os_name,
        "OSVersion": os_version,
        "OSType": "linux",
        "Architecture": sysinfo.architecture(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": ["127.0.0.0/8"] + insecure,
            "IndexConfigs": index_configs,
            "Mirrors": list(config.registry_mirrors),
        },
        "NCPU": os.cpu_count(),
        "MemTotal": sysinfo.mem_total(),
        "GenericResources": None,
        "DockerRootDir": config.data_root,
        "HttpProxy": os.environ.get("HTTP_PROXY", ""),
        "HttpsProxy": os.environ.get("HTTPS_PROXY", ""),
        "NoProxy": os.environ.get("NO_PROXY", ""),
        "Name": socket.gethostname(),
        "Labels": list(config.labels),
        "ExperimentalBuild": False,
        "ServerVersion": __version__,
        "Runtimes": {config.exec_driver: {"path": config.exec_driver}},
        "DefaultRuntime": config.exec_driver,
        "ExecutionDriver": execdriver.name if execdriver else config.exec_driver,
        # The exec driver's own figures and limits (what lxc cannot do); clients ignore it.
        "ExecutionDriverStatus": [list(kv) for kv in execdriver.info()] if execdriver else [],
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                  "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "InitBinary": "",
        "ContainerdCommit": {"ID": ""},
        "RuncCommit": {"ID": ""},
        "InitCommit": {"ID": ""},
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=no-new-privileges"]
                           + (["name=userns"] if svc.idmap is not None else []),
        "CDISpecDirs": [],
        "Warnings": [],
    }


@dataclass
class EventsRequest:
    since: int = None  # ns since the epoch
    until: int = None
    filters: dict = field(default_factory=dict)


def parse_timestamp(text, name):
    """Docker's event time: 'SECONDS[.NANOS]' (what the CLI sends), or RFC 3339."""
    if text in (None, ""):
        return None
    try:
        seconds, _, frac = text.partition(".")
        return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9])
    except ValueError:
        pass
    try:
        from datetime import datetime
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {text!r} is not a timestamp") from None


def events(svc, job):
    """Replay history from ``since``, then stream live events until ``until`` or disconnect."""
    req = job.request
    bus = svc.events
    output = job.output
    wanted = EventFilter(req.filters)
    now = time.time_ns()
    done = defer.Deferred()
    output.flush_headers()
    if req.since is not None:
        for event in bus.history(req.since, req.until):
            if wanted.matches(event):
                output.emit(event)
    if req.until is not None and req.until <= now:
        return None

    def on_event(event):
        if wanted.matches(event) and (req.until is None or event["timeNano"] <= req.until):
            output.emit(event)

    unsubscribe = bus.subscribe(on_event)
    timer = None

    def finish():
        unsubscribe()
        if timer is not None and timer.active():
            timer.cancel()
        if not done.called:
            done.callback(None)

    if req.until is not None:
        timer = svc.engine.call_later((req.until - now) / 1e9, finish)
    output.on_close(finish)
    return done
