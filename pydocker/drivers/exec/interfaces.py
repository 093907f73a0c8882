"""The seams between the daemon and the exec drivers.

``IExecDriver`` is what the jobs layer calls; ``IContainerIO`` is what it
hands in to receive a container's output and feed its input. The driver
never knows about HTTP or attach streams: it only moves bytes.
"""

from zope.interface import Attribute, Interface


class IContainerIO(Interface):
    """The container side of stdio, implemented by the caller of ``run``/``exec``.

    The driver calls these on the reactor thread. With ``spec.tty`` the output
    comes from the pty master and ``stderr`` is never called. Output may
    arrive before ``started`` (a fast command writes before its start is
    confirmed); all of it has been delivered when the run's Deferred fires.
    """

    def started(pid, stdin):
        """The process has exec'd its command: ``pid`` is its host pid and
        ``stdin`` an ``IContainerStdin`` (also the pty handle with a TTY)."""

    def stdout(data):
        """Bytes the container wrote to stdout (or to its TTY)."""

    def stderr(data):
        """Bytes the container wrote to stderr (non-TTY only)."""

    def output_producer(producer):
        """The driver's reader of the container's output, an ``IPushProducer``,
        given before any output arrives. The io pauses it while a consumer (an
        attached client) cannot keep up, so the container's writes block, as
        they do under dockerd."""


class IContainerStdin(Interface):
    """Writing to a running container, given to ``IContainerIO.started``."""

    master_fd = Attribute("The pty master fd with a TTY, else None.")

    def write(data):
        """Send bytes to the container's stdin (or TTY)."""

    def close():
        """Close stdin: the container reads EOF (with a TTY, sends ^D)."""

    def resize(height, width):
        """Set the TTY's window size (the kernel sends SIGWINCH); this is how
        an exec'd process is resized. Raises Conflict without a TTY."""


class IExecDriver(Interface):
    """Starts and controls container processes (Docker's execdriver.Driver).

    Constructed as ``Driver(home, options, reactor=None)``: ``home`` is the
    driver's state dir under the exec root, ``options`` its ``--exec-opt`` keys.
    """

    name = Attribute("The driver's name as shown in /info, e.g. 'native'.")

    def info():
        """Return a list of (key, value) pairs for /info."""

    def kernel_memory_enforced():
        """Whether --kernel-memory can be honoured here (blocking: it may probe the kernel)."""

    def run(spec, io):
        """Start the container described by ``spec`` (a ``ContainerSpec``).

        Returns a Deferred firing with an ``ExitStatus`` when the container's
        first process exits. ``io.started(pid, stdin)`` is called once the
        command has been exec'd; a start failure (bad user, cwd, missing
        binary...) errbacks the Deferred *instead*, with an
        ``errdefs`` kind (``ContainerStartError`` carries Docker's
        exit code 126/127).
        """

    def exec(container_id, exec_spec, io):
        """Start ``exec_spec`` (an ``ExecSpec``) inside a running container.
        Returns a Deferred firing with its ``ExitStatus``; ``io`` as for run."""

    def kill(container_id, signal):
        """Send ``signal`` to the container's first process."""

    def terminate(container_id):
        """Kill every process of the container (SIGKILL)."""

    def pause(container_id):
        """Freeze every process of the container."""

    def unpause(container_id):
        """Thaw a paused container."""

    def pids(container_id):
        """Host pids of every process in the container."""

    def stats(container_id):
        """Raw cgroup figures: a dict with memory, cpu, pids and blkio sections."""

    def update(container_id, resources):
        """Apply new ``Resources`` to a running container."""

    def resize(container_id, height, width):
        """Set the TTY window size; the kernel sends SIGWINCH."""

    def clean(container_id):
        """Remove cgroups and state left by a container (also after a crash)."""

    def shutdown():
        """Daemon stop, once every container has stopped: release what the
        driver still holds (helper processes, clean-ups under way). Returns a
        Deferred; the daemon removes its cgroup parent after it fires."""
