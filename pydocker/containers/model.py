"""The container record and its state machine.

The daemon keeps every container in memory (``ContainerIndex``) and writes the
whole record to the store after each change, as dockerd keeps its memdb beside
``config.v2.json``: reads (ps, inspect) never touch the database.
"""

from dataclasses import dataclass, field

from pydocker.errdefs import Conflict, NotFound
from pydocker.timeutil import ZERO_TIME, rfc3339

def new_state():
    return {
        "Status": "created", "Running": False, "Paused": False, "Restarting": False,
        "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
        "StartedAt": ZERO_TIME, "FinishedAt": ZERO_TIME,
    }


@dataclass
class Container:
    id: str
    name: str  # without the leading slash
    image_id: str
    image_name: str  # what the user asked for (Config.Image)
    created: int  # ns since the epoch
    config: dict
    host_config: dict
    state: dict = field(default_factory=new_state)
    network_settings: dict = field(default_factory=dict)
    rw_layer: str = ""
    restart_count: int = 0
    mounts: list = field(default_factory=list)  # mount points as inspect shows them (binds, volumes)
    removing: bool = False  # run-time only: a removal is in progress

    @property
    def manually_stopped(self):
        """Stopped by a user (stop, kill): restart policies leave it alone, across daemon restarts too."""
        return self.state.get("ManuallyStopped", False)

    @manually_stopped.setter
    def manually_stopped(self, value):
        self.state["ManuallyStopped"] = value

    @property
    def running(self):
        return self.state["Running"]

    @property
    def paused(self):
        return self.state["Paused"]

    @property
    def status(self):
        return self.state["Status"]

    def set_running(self, pid):
        self.state.update(Status="running", Running=True, Paused=False, Restarting=False, OOMKilled=False,
                          Dead=False, Pid=pid, ExitCode=0, Error="", StartedAt=rfc3339())

    def set_stopped(self, exit_code, oom_killed=False, error=""):
        self.state.update(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0,
                          ExitCode=exit_code, OOMKilled=oom_killed, Error=error, FinishedAt=rfc3339())

    def set_restarting(self, exit_code):
        self.state.update(Status="restarting", Running=True, Restarting=True, Paused=False, Pid=0,
                          ExitCode=exit_code, FinishedAt=rfc3339())

    def set_start_failed(self, error, exit_code):
        started_before = self.state["StartedAt"] != ZERO_TIME
        self.state.update(Status="exited" if started_before else "created", Running=False,
                          Pid=0, ExitCode=exit_code, Error=error)

    def set_paused(self, paused):
        self.state.update(Paused=paused, Status="paused" if paused else "running")


class ContainerIndex:
    """Every container, by ID and by name, with Docker's lookup rules."""

    def __init__(self):
        self._by_id = {}
        self._by_name = {}

    def add(self, container):
        if container.name in self._by_name:
            raise name_conflict(container.name, self._by_name[container.name])
        self._by_id[container.id] = container
        self._by_name[container.name] = container.id

    def remove(self, container):
        self._by_id.pop(container.id, None)
        if self._by_name.get(container.name) == container.id:
            del self._by_name[container.name]

    def rename(self, container, new_name):
        if new_name in self._by_name:
            raise name_conflict(new_name, self._by_name[new_name])
        del self._by_name[container.name]
        container.name = new_name
        self._by_name[new_name] = container.id

    def name_taken(self, name):
        return name in self._by_name

    def all(self):
        return list(self._by_id.values())

    def get(self, ref):
        """By full ID, exact name (with or without '/'), or unique ID prefix — Docker's order."""
        if ref in self._by_id:
            return self._by_id[ref]
        name = ref[1:] if ref.startswith("/") else ref
        if name in self._by_name:
            return self._by_id[self._by_name[name]]
        if ref:
            matches = [c for cid, c in self._by_id.items() if cid.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NotFound(f"multiple containers found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    def __len__(self):
        return len(self._by_id)


def name_conflict(name, holder_id):
    return Conflict(f'Conflict. The container name "/{name}" is already in use by container '
                    f'"{holder_id}". You have to remove (or rename) that container to be able to reuse that name.')
