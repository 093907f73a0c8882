"""The jobs read no cgroup or /proc file on the reactor: stats, top and create hand
those reads to the worker pool. A memory reactor and fakes (the ``world`` fixture);
the engine's worker pool runs work at once but marks it, so each spied read says
whether it ran as a worker's or on the reactor."""

from twisted.internet import defer

from pydocker import sysinfo
from pydocker.jobs import containers, lifecycle, stats


class MarkingWorkers:
    """Runs the work at once (these tests have one thread), marking the time inside it."""

    def __init__(self):
        self.inside = False

    def run(self, f, *args, **kwargs):
        self.inside = True
        try:
            return defer.maybeDeferred(f, *args, **kwargs)
        finally:
            self.inside = False


class Output:
    closed = False

    def __init__(self):
        self.chunks = []

    def flush_headers(self):
        pass

    def write(self, data):
        self.chunks.append(data)


def spy(monkeypatch, owner, name, workers, reads):
    """Record (name, ran in a worker) for each call of ``owner.name``."""
    original = getattr(owner, name)

    def recording(*args, **kwargs):
        reads.append((name, workers.inside))
        return original(*args, **kwargs)
    monkeypatch.setattr(owner, name, recording)


def outcome(d):
    out = []
    d.addBoth(out.append)
    assert len(out) == 1, "the job did not finish"
    if isinstance(out[0], Exception) or hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


def running_container(world):
    world.engine.install(lifecycle.LifecycleJobs(world.engine, world.runtime, world.index, world.store,
                                                 world.graph, world.volumes, world.execdriver))
    c = world.container()
    outcome(world.engine.job("container.start", containers.ContainerRequest(c.id)))
    assert c.running
    return c


def stats_engine(world, workers):
    from pydocker.engine.job import Engine
    engine = Engine(world.clock, workers)
    engine.install(stats.StatsJobs(engine, world.index, world.execdriver))
    return engine


def test_top_reads_the_cgroup_in_a_worker(world, monkeypatch):
    c = running_container(world)
    workers, reads = MarkingWorkers(), []
    spy(monkeypatch, world.execdriver, "pids", workers, reads)
    result = outcome(stats_engine(world, workers).job("container.top", stats.TopRequest(c.id)))
    assert "PID" in result["Titles"]
    assert reads == [("pids", True)]


def test_stats_reads_the_cgroup_and_proc_in_a_worker(world, monkeypatch):
    c = running_container(world)
    workers, reads = MarkingWorkers(), []
    spy(monkeypatch, world.execdriver, "stats", workers, reads)
    spy(monkeypatch, stats, "network_stats", workers, reads)
    out = Output()
    outcome(stats_engine(world, workers).job(
        "container.stats", stats.StatsRequest(c.id, stream=False, one_shot=True), out))
    assert len(out.chunks) == 1
    assert reads == [("stats", True), ("network_stats", True)]


def test_create_probes_the_kernel_in_a_worker(world, monkeypatch):
    from pydocker.engine.job import Engine
    workers, reads = MarkingWorkers(), []
    spy(monkeypatch, sysinfo, "cgroup_namespaces", workers, reads)
    spy(monkeypatch, world.execdriver, "kernel_memory_enforced", workers, reads)
    engine = Engine(world.clock, workers)
    engine.install(containers.ContainerJobs(engine, world.runtime, world.index, world.store, world.graph,
                                            world.network, world.volumes, world.execdriver,
                                            world.logdrivers, world.config))
    body = {"Image": world.container("c1").image_id, "Cmd": ["true"],
            "HostConfig": {"CgroupnsMode": "private", "KernelMemory": 4 << 20}}
    created = outcome(engine.job("container.create", containers.CreateRequest("c2", body, (1, 40))))
    assert created["Id"]
    assert reads == [("cgroup_namespaces", True), ("kernel_memory_enforced", True)]
