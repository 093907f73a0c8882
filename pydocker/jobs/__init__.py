"""The job handlers (use cases). Each module registers its jobs with ``install(engine)``."""

from pydocker.jobs import (archives, attach, build, containers, distribution, execs, images, networks, resources, swarm,
                          system, volumes)

JOB_MODULES = [system, images, volumes, containers, attach, execs, resources, networks, distribution, archives,
               build, swarm]
