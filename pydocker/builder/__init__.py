"""The classic (non-BuildKit) image builder behind ``POST /build``.

``parser`` reads a Dockerfile into instruction lines, ``shellwords`` expands
variables as dockerd does, ``instructions`` turns lines into stages of typed
commands, ``context`` and ``dockerignore`` prepare the build context,
``copy`` puts files into a container's root filesystem, ``state`` holds what
a build carries from step to step, and ``dispatcher`` (with ``config_steps``)
runs the steps, each through the engine's named jobs (create, start, commit...).
No HTTP here and no store: the ``build`` job (``pydocker/jobs/build.py``) wires
it to the API.
"""
