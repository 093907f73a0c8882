"""Stand-ins for the kernel-facing parts, for unit tests on a memory reactor.

Each fake implements its driver interface (the tests check it with
``verifyObject``) but touches no kernel: a test drives what the real part would
report (a process exit, a signal's effect). Use them only in unit tests that say so;
the kernel suites test the real drivers.
"""

import itertools
import os
import signal

from twisted.internet import defer
from zope.interface import implementer

from pydocker.drivers.exec.interfaces import IExecDriver
from pydocker.drivers.exec.spec import ExitStatus
from pydocker.drivers.graph.interfaces import IGraphDriver
from pydocker.errdefs import Conflict, NotFound


class _Process:
    def __init__(self, pid, io):
        self.pid = pid
        self.io = io
        self.exited = defer.Deferred()


@implementer(IExecDriver)
class FakeExecDriver:
    """Processes that start at once and end when the test says (``exit``) or on a
    signal they do not ignore (``ignore``: signals they survive; SIGKILL always kills)."""

    name = "fake"

    def __init__(self, home=None, options=None, reactor=None):
        self.processes = {}     # container id -> _Process (the first process)
        self.signals = []       # (container id, signal) in the order sent
        self.ignore = set()     # signals the fake processes survive
        self.exec_results = []  # exit codes for the next execs, in order (0 when empty)
        self.execs = []         # (container id, ExecSpec)
        self.cleaned = []
        self.paused = set()
        self._pids = itertools.count(1000)

    def info(self):
        return [("Execution Driver", self.name)]

    def kernel_memory_enforced(self):
        return False

    def run(self, spec, io):
        process = self.processes[spec.id] = _Process(next(self._pids), io)
        io.started(process.pid, None)
        return process.exited

    def exec(self, container_id, exec_spec, io):
        self.execs.append((container_id, exec_spec))
        io.started(next(self._pids), _ClosedStdin())
        code = self.exec_results.pop(0) if self.exec_results else 0
        return defer.succeed(ExitStatus(code))

    def exit(self, container_id, exit_code, oom_killed=False):
        """The container's first process ends with ``exit_code``."""
        process = self.processes.pop(container_id)
        process.exited.callback(ExitStatus(exit_code, oom_killed))

    def kill(self, container_id, sig):
        if container_id not in self.processes:
            raise NotFound(f"no process for container {container_id}")
        self.signals.append((container_id, sig))
        if sig == signal.SIGKILL or sig not in self.ignore:
            self.exit(container_id, 128 + sig)

    def terminate(self, container_id):
        self.kill(container_id, signal.SIGKILL)

    def pause(self, container_id):
        self.paused.add(container_id)

    def unpause(self, container_id):
        self.paused.discard(container_id)

    def pids(self, container_id):
        process = self.processes.get(container_id)
        return [process.pid] if process else []

    def stats(self, container_id):
        return {}

    def update(self, container_id, resources):
        pass

    def resize(self, container_id, height, width):
        pass

    def clean(self, container_id):
        self.cleaned.append(container_id)

    def shutdown(self):
        return defer.succeed(None)


class _ClosedStdin:
    def write(self, data):
        pass

    def close(self):
        pass


@implementer(IGraphDriver)
class FakeGraphDriver:
    """Layers as empty directories under ``home``, with the reference counts and
    errors of a real driver but no mounts and no content."""

    name = "fake"

    def __init__(self, home, options=None):
        self.home = home
        self.parents = {}   # layer id -> parent id
        self.mounts = {}    # layer id -> get() count

    def status(self):
        return [("Layers", str(len(self.parents)))]

    def metadata(self, id):
        return {"Dir": self._dir(id)}

    def cleanup(self):
        self.mounts.clear()

    def create(self, id, parent=None):
        if id in self.parents:
            raise Conflict(f"layer {id} exists")
        if parent is not None and parent not in self.parents:
            raise NotFound(f"no such layer: {parent}")
        os.makedirs(self._dir(id))
        self.parents[id] = parent

    create_rw = create

    def remove(self, id):
        if self.parents.pop(id, None) is not None or os.path.isdir(self._dir(id)):
            os.rmdir(self._dir(id))
        self.mounts.pop(id, None)

    def get(self, id):
        if id not in self.parents:
            raise NotFound(f"no such layer: {id}")
        self.mounts[id] = self.mounts.get(id, 0) + 1
        return self._dir(id)

    def put(self, id):
        if self.mounts.get(id):
            self.mounts[id] -= 1

    def exists(self, id):
        return id in self.parents

    def ids(self):
        return list(self.parents)

    def diff(self, id, parent=None):
        raise NotImplementedError("the fake graph driver holds no content")

    def changes(self, id, parent=None):
        return []

    def apply_diff(self, id, parent, stream):
        raise NotImplementedError("the fake graph driver holds no content")

    def diff_size(self, id, parent=None):
        return 0

    def _dir(self, id):
        return os.path.join(self.home, id)


class InlineWorkers:
    """A worker pool that runs the work at once, on the calling thread."""

    def run(self, f, *args, **kwargs):
        return defer.maybeDeferred(f, *args, **kwargs)


class InlineLogThread:
    """The log thread's calls (``runtime.logwriter.WriterThread``) run at once, on the
    calling thread."""

    def call_in_reactor(self, f, *args):
        f(*args)

    def submit(self, f, *args):
        f(*args)

    def flushed(self):
        return defer.succeed(None)


class InlineStore:
    """The store's ``run`` on the calling thread, on a real ``Database`` (SQLite)."""

    def __init__(self, database):
        self._database = database
        self.path = database.path

    def run(self, f, *args, **kwargs):
        return defer.maybeDeferred(self._database.run_sync, f, *args, **kwargs)
