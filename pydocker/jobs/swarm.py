"""Swarm mode is not part of pydocker: its endpoints answer as a dockerd that is in
no swarm does (503 with dockerd's messages), so clients such as docker-py, which
leave a swarm in their clean-up, carry on."""

from dataclasses import dataclass

from pydocker.errdefs import Unavailable

NOT_A_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
                 'to connect this node to swarm and try again.')
NOT_A_MEMBER = "This node is not part of a swarm"
NOT_SUPPORTED = "pydocker does not implement swarm mode"


class SwarmJobs:
    """Swarm endpoints answer that this node is not in a swarm."""

    def __init__(self, engine):
        self.engine = engine

    def jobs(self):
        return {"swarm.inactive": inactive}


@dataclass
class InactiveRequest:
    message: str


def inactive(svc, job):
    raise Unavailable(job.request.message)
