"""What a running container uses: stats and top."""

import json
import subprocess
from dataclasses import dataclass

from twisted.internet import defer

from pydocker import sysinfo
from pydocker.errdefs import Conflict, InvalidParameter
from pydocker.timeutil import ZERO_TIME, rfc3339

STATS_INTERVAL = 1.0


class StatsJobs:
    """stats and top. Reactor thread; the cgroup files and ps are read in workers."""

    def __init__(self, engine, containers, execdriver):
        self.engine = engine
        self.containers = containers
        self.execdriver = execdriver

    def jobs(self):
        return {"container.stats": stats, "container.top": top}


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


def sample(execdriver, container_id, name, pid):
    """One stats document, or the empty one of a stopped container (``pid`` 0), from the
    name and pid the reactor read of the container (blocking: reads cgroup and /proc files)."""
    doc = {"read": rfc3339(), "preread": ZERO_TIME, "name": "/" + name, "id": container_id,
           "num_procs": 0, "storage_stats": {}, "pids_stats": {}, "blkio_stats": {},
           "cpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
           "memory_stats": {}}
    if pid:
        try:
            doc.update(execdriver.stats(container_id))
        except Conflict:
            return doc  # stopped meanwhile
        doc["networks"] = network_stats(pid)
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
def stats(svc, job):
    req, out = job.request, job.output
    container = svc.containers.get(req.name)
    previous = None
    out.flush_headers()
    while True:
        pid = container.state["Pid"] if container.running else 0
        current = yield svc.engine.run_blocking(sample, svc.execdriver, container.id, container.name, pid)
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
        yield _sleep(svc, STATS_INTERVAL)
        if out.closed:
            return


def _sleep(svc, seconds):
    d = defer.Deferred()
    svc.engine.call_later(seconds, d.callback, None)
    return d


@dataclass
class TopRequest:
    name: str
    ps_args: str = "-ef"


def _top(execdriver, container_id, ps_args):
    """Run ps on the host, keep the rows of the container's processes (as dockerd does).
    Blocking: reads the container's cgroup for its pids."""
    pids = execdriver.pids(container_id)
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


def top(svc, job):
    req = job.request
    container = svc.containers.get(req.name)
    if not container.running:
        raise Conflict(f"Container {container.id} is not running")
    return svc.engine.run_blocking(_top, svc.execdriver, container.id, req.ps_args)
