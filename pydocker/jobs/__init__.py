"""The job handlers (use cases). Each module registers its jobs with ``install(engine)``."""

from pydocker.jobs import containers, distribution, images, networks, system

JOB_MODULES = [system, images, containers, networks, distribution]
