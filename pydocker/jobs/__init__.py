"""The job handlers (use cases). Each module registers its jobs with ``install(engine)``."""

from pydocker.jobs import (archives, attach, containers, distribution, execs, images, networks, resources, swarm,
                          system, volumes)

JOB_MODULES = [system, images, volumes, containers, attach, execs, resources, networks, distribution, archives,
               swarm]
