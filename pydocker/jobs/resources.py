"""What a running container uses and may use: stats, top, update."""

import json
import subprocess
from dataclasses import dataclass

from twisted.internet import defer

from pydocker import sysinfo
from pydocker.containers import createconfig
from pydocker.drivers.exec import cgroups
from pydocker.errdefs import Conflict, InvalidParameter
from pydocker.engine.fields import check
from pydocker.runtime.spec import resources_from
from pydocker.store import containers as cstore
from pydocker.timeutil import ZERO_TIME, rfc3339

STATS_INTERVAL = 1.0
UPDATABLE = ("BlkioWeight", "CpuShares", "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "Memory",
             "MemorySwap", "MemoryReservation", "KernelMemory", "NanoCpus", "PidsLimit", "RestartPolicy",
             "OomKillDisable", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
             "BlkioDeviceWriteIOps")


def install(engine):
    engine.register("container.stats", stats)
    engine.register("container.top", top)
    engine.register("container.update", update)


def network_stats(pid):
    """Per-interface counters from the container's network namespace (/proc/PID/net/dev)."""
    result = {}
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.readlines()[2:]
    except OSError:
        return result
    for line in lines:
        name, _, numbers = line.partition(":")
        name = name.strip()
        if name == "lo":
            continue
        v = [int(x) for x in numbers.split()]
        result[name] = {"rx_bytes": v[0], "rx_packets": v[1], "rx_errors": v[2], "rx_dropped": v[3],
                        "tx_bytes": v[8], "tx_packets": v[9], "tx_errors": v[10], "tx_dropped": v[11]}
    return result


def sample(engine, container):
    """One stats document, or the empty one of a stopped container (blocking: reads cgroup files)."""
    doc = {"read": rfc3339(), "preread": ZERO_TIME, "name": "/" + container.name, "id": container.id,
           "num_procs": 0, "storage_stats": {}, "pids_stats": {}, "blkio_stats": {},
           "cpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
           "memory_stats": {}}
    if container.running:
        try:
            doc.update(engine.execdriver.stats(container.id))
        except Conflict:
            return doc  # stopped meanwhile
        doc["networks"] = network_stats(container.state["Pid"])
        _cap_memory_limit(doc["memory_stats"])
    return doc


def _cap_memory_limit(memory):
    """No limit reads as a huge number (v1) or 0 for "max" (v2); dockerd reports the
    host's memory then, so ``stats`` shows a usable LIMIT and MEM %."""
    if "limit" in memory:
        total = sysinfo.mem_total()
        if total and not 0 < memory["limit"] <= total:
            memory["limit"] = total


@dataclass
class StatsRequest:
    name: str
    stream: bool = True
    one_shot: bool = False


@defer.inlineCallbacks
def stats(job):
    engine, req, out = job.engine, job.request, job.output
    container = engine.containers.get(req.name)
    previous = None
    out.flush_headers()
    while True:
        current = yield engine.run_blocking(sample, engine, container)
        if previous is not None:
            current["precpu_stats"] = previous["cpu_stats"]
            current["preread"] = previous["read"]
        else:
            current["precpu_stats"] = {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
        if previous is not None or req.one_shot or not container.running:
            out.write(json.dumps(current).encode() + b"\n")
            if not req.stream or not container.running:
                return
        if out.closed:
            return
        previous = current
        yield _sleep(engine, STATS_INTERVAL)
        if out.closed:
            return


def _sleep(engine, seconds):
    d = defer.Deferred()
    engine.call_later(seconds, d.callback, None)
    return d


@dataclass
class TopRequest:
    name: str
    ps_args: str = "-ef"


def _top(pids, ps_args):
    """Run ps on the host, keep the rows of the container's processes (as dockerd does)."""
    args = ps_args.split() if ps_args else ["-ef"]
    proc = subprocess.run(["ps", *args], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise InvalidParameter(f"ps: {proc.stderr.strip() or 'failed'}")
    lines = proc.stdout.splitlines()
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidParameter("Couldn't find PID field in ps output")
    column = titles.index("PID")
    wanted = {str(p) for p in pids}
    rows = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        if len(fields) > column and fields[column] in wanted:
            rows.append(fields)
    return {"Titles": titles, "Processes": rows}


def top(job):
    engine, req = job.engine, job.request
    container = engine.containers.get(req.name)
    if not container.running:
        raise Conflict(f"Container {container.id} is not running")
    pids = engine.execdriver.pids(container.id)
    return engine.run_blocking(_top, pids, req.ps_args)


@dataclass
class UpdateRequest:
    name: str
    body: dict
    version: tuple = (1, 44)


def discard_kernel_memory(host_config, version):
    """KernelMemory as dockerd treats it: ignored from API 1.42 on; before that,
    dropped with a warning where the kernel no longer enforces it."""
    if not host_config.get("KernelMemory"):
        return []
    if version >= (1, 42):
        host_config["KernelMemory"] = 0
        return []
    if cgroups.kernel_memory_enforced():
        return []
    host_config["KernelMemory"] = 0
    return ["Your kernel does not support kernel memory limit capabilities or the cgroup "
            "is not mounted. Limitation discarded."]


@defer.inlineCallbacks
def update(job):
    engine, req = job.engine, job.request
    container = engine.containers.get(req.name)
    body = check(req.body, {k: v for k, v in createconfig.HOST_CONFIG_TYPES.items() if k in UPDATABLE}
                 | {"RestartPolicy": dict}, "")
    unknown = [k for k, v in body.items() if k not in UPDATABLE and v not in (None, 0, "", [], {})]
    if unknown:
        raise InvalidParameter(f"cannot update {', '.join(sorted(unknown))}: not an updatable setting")
    new = dict(container.host_config)
    new.update({k: v for k, v in body.items() if k in UPDATABLE and v is not None})
    if body.get("Memory") and not body.get("MemorySwap") and container.host_config.get("MemorySwap"):
        new["MemorySwap"] = container.host_config["MemorySwap"] if container.host_config["MemorySwap"] >= body["Memory"] else 0
    createconfig.validate_host_config(new)
    warnings = yield engine.run_blocking(discard_kernel_memory, new, req.version)
    if container.running:
        yield engine.run_blocking(engine.execdriver.update, container.id, resources_from(new))
    container.host_config = new
    yield engine.db.run(cstore.save_container, container)
    engine.runtime.publish(container, "update")
    return {"Warnings": warnings}
