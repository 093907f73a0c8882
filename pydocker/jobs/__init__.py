"""The job handlers (use cases). Each module registers its jobs with ``install(engine)``."""

from pydocker.jobs import system

JOB_MODULES = [system]
