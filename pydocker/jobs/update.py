"""What a container may use: ``update`` of its resource limits and restart policy."""

from dataclasses import dataclass

from twisted.internet import defer

from pydocker.containers import createconfig
from pydocker.errdefs import InvalidParameter
from pydocker.fields import check
from pydocker.runtime.spec import resources_from
from pydocker.store import containers as cstore

UPDATABLE = ("BlkioWeight", "CpuShares", "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "Memory",
             "MemorySwap", "MemoryReservation", "KernelMemory", "NanoCpus", "PidsLimit", "RestartPolicy",
             "OomKillDisable", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
             "BlkioDeviceWriteIOps")


class UpdateJobs:
    """container.update. Reactor thread."""

    def __init__(self, engine, runtime, containers, db, execdriver):
        self.engine = engine
        self.runtime = runtime
        self.containers = containers
        self.db = db
        self.execdriver = execdriver

    def jobs(self):
        return {"container.update": update}


@dataclass
class UpdateRequest:
    name: str
    body: dict
    version: tuple = (1, 44)


def discard_kernel_memory(execdriver, host_config, version):
    """KernelMemory as dockerd treats it: ignored from API 1.42 on; before that,
    dropped with a warning where the kernel no longer enforces it (blocking)."""
    if not host_config.get("KernelMemory"):
        return []
    if version >= (1, 42):
        host_config["KernelMemory"] = 0
        return []
    if execdriver.kernel_memory_enforced():
        return []
    host_config["KernelMemory"] = 0
    return ["Your kernel does not support kernel memory limit capabilities or the cgroup "
            "is not mounted. Limitation discarded."]


@defer.inlineCallbacks
def update(svc, job):
    req = job.request
    container = svc.containers.get(req.name)
    body = check(req.body, {k: v for k, v in createconfig.HOST_CONFIG_TYPES.items() if k in UPDATABLE}
                 | {"RestartPolicy": dict}, "")
    unknown = [k for k, v in body.items() if k not in UPDATABLE and v not in (None, 0, "", [], {})]
    if unknown:
        raise InvalidParameter(f"cannot update {', '.join(sorted(unknown))}: not an updatable setting")
    new = dict(container.host_config)
    new.update({k: v for k, v in body.items() if k in UPDATABLE and v is not None})
    if body.get("Memory") and not body.get("MemorySwap") and container.host_config.get("MemorySwap"):
        new["MemorySwap"] = container.host_config["MemorySwap"] if container.host_config["MemorySwap"] >= body["Memory"] else 0
    createconfig.validate_host_config(new, where="")
    yield svc.engine.run_blocking(createconfig.verify_on_host, {k: body.get(k) for k in ("CpusetCpus", "CpusetMems")}, "")
    warnings = yield svc.engine.run_blocking(discard_kernel_memory, svc.execdriver, new, req.version)
    if container.running:
        yield svc.engine.run_blocking(svc.execdriver.update, container.id, resources_from(new))
    container.host_config = new
    yield svc.db.run(cstore.save_record, cstore.record(container))
    svc.runtime.publish(container, "update")
    return {"Warnings": warnings}
