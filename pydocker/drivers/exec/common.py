"""What the native and lxc exec drivers share: the calls that act on a running
container through its cgroup and its process, and their state directories."""

import json
import os
import signal as signals

from twisted.internet import threads

from pydocker.drivers.exec.native import validate
from pydocker.engine.errors import Conflict, InvalidParameter


class RunningContainers:
    """A mixin for an exec driver keeping ``self._home`` and ``self._reactor``.

    The driver supplies ``_live(container_id)``: its record of a running
    container, with ``pid`` (None until known), ``cgroup`` and ``stdin``, or
    ``Conflict`` when there is none."""

    def _live(self, container_id):
        raise NotImplementedError

    # --- controlling running containers ----------------------------------------------

    def kill(self, container_id, signal):
        pid = self._live(container_id).pid
        if pid is None:
            raise Conflict("container %s is not running" % container_id)
        if not isinstance(signal, int) or not 0 < signal < 65:
            raise InvalidParameter("invalid signal: %r" % (signal,))
        try:
            os.kill(pid, signal)
        except ProcessLookupError:
            raise Conflict("container %s is not running" % container_id) from None

    def terminate(self, container_id):
        self._live(container_id).cgroup.kill_all(signals.SIGKILL)

    def pause(self, container_id):
        self._live(container_id).cgroup.freeze()

    def unpause(self, container_id):
        self._live(container_id).cgroup.thaw()

    def pids(self, container_id):
        return self._live(container_id).cgroup.pids()

    def stats(self, container_id):
        return self._live(container_id).cgroup.stats()

    def update(self, container_id, resources):
        validate.resources(resources)
        self._live(container_id).cgroup.set(resources)

    def resize(self, container_id, height, width):
        try:
            self._live(container_id).stdin.resize(height, width)
        except ValueError as e:
            raise InvalidParameter(str(e)) from None

    def _in_thread(self, function, *args):
        """Joining a v1 cgroup waits for an RCU grace period: keep it off the reactor."""
        return threads.deferToThreadPool(self._reactor, self._reactor.getThreadPool(),
                                         function, *args)

    # --- state kept for clean-up after a crash -----------------------------------------

    def _state_dir(self, container_id):
        return os.path.join(self._home, container_id)

    def _save_state(self, container_id, cgroup):
        """Into the container's state directory, which must exist."""
        with open(os.path.join(self._state_dir(container_id), "state.json"), "w") as f:
            json.dump({"cgroup": cgroup.paths}, f)
