"""The job handlers (use cases).

Each module has one class naming the services its handlers need (for example
``ContainerJobs(engine, runtime, containers, db, ...)``); its ``jobs()`` maps job
names to the module's functions ``handler(services, job)``, which
``Engine.install`` registers bound to that instance. The daemon builds the
instances (``pydocker.daemon.service``).
"""
