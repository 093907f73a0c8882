"""Jobs on a memory reactor (the ``world`` fixture: fake exec and graph drivers, a
stand-in network service): use cases run as named jobs through the engine."""

import functools

from pydocker.jobs import containers, distribution, images, lifecycle


def fired(d):
    out = []
    d.addBoth(out.append)
    return out


def lifecycle_jobs(world):
    return lifecycle.LifecycleJobs(world.engine, world.runtime, world.index, world.store, world.graph,
                                   world.volumes, world.execdriver)


def jobs_run(world, run):
    """Record the name of every job the engine dispatches."""
    dispatch = world.engine.job

    def recording(name, *args, **kwargs):
        run.append(name)
        return dispatch(name, *args, **kwargs)

    world.engine.job = recording


def test_image_create_runs_the_pull_or_the_import_job(world):
    seen = []
    jobs = distribution.DistributionJobs(world.engine, None, None, None, None)
    world.engine.register("image.create", functools.partial(distribution.create_image, jobs))
    world.engine.register("image.pull", lambda job: seen.append(("pull", job.request.image)))
    world.engine.register("image.import", lambda job: seen.append(("import", job.request.source)))
    world.engine.job("image.create", distribution.PullRequest("busybox", "latest"))
    world.engine.job("image.create", images.ImportRequest(source="-", body=None, repo="", tag=""))
    assert seen == [("pull", "busybox"), ("import", "-")]


def test_an_rm_container_is_removed_through_the_remove_job_when_it_stops(world):
    run = []
    jobs_run(world, run)
    world.engine.install(lifecycle_jobs(world))
    c = world.container(AutoRemove=True)
    assert fired(world.engine.job("container.start", containers.ContainerRequest(c.id))) == [None]
    world.execdriver.exit(c.id, 0)
    assert run == ["container.start", "container.remove"]
    assert c.id not in [x.id for x in world.index.all()] and world.actions(c)[-1] == "destroy"
    assert c.id in world.execdriver.cleaned and not world.graph.exists(c.id)


def test_policy_restarts_run_as_container_start_jobs(world):
    run = []
    jobs_run(world, run)
    world.engine.install(lifecycle_jobs(world))
    c = world.container(RestartPolicy={"Name": "always"})
    world.engine.job("container.start", containers.ContainerRequest(c.id))
    world.execdriver.exit(c.id, 0)
    world.clock.advance(1)
    assert run == ["container.start", "container.start"] and c.running and c.restart_count == 1


def test_each_engine_has_its_own_container_locks(world):
    c = world.container()
    first, second = lifecycle_jobs(world), lifecycle_jobs(world)
    assert lifecycle._lock(first, c) is lifecycle._lock(first, c)
    assert lifecycle._lock(first, c) is not lifecycle._lock(second, c)
