"""Swarm mode is not part of pydocker: its endpoints answer as a dockerd that is in
no swarm does (503 with dockerd's messages), so clients such as docker-py, which
leave a swarm in their clean-up, carry on."""

from dataclasses import dataclass

from pydocker.errdefs import Unavailable

NOT_A_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
                 'to connect this node to swarm and try again.')
NOT_A_MEMBER = "This node is not part of a swarm"
NOT_SUPPORTED = "pydocker does not implement swarm mode"


def install(engine):
    engine.register("swarm.inactive", inactive)


@dataclass
class InactiveRequest:
    message: str


def inactive(job):
    raise Unavailable(job.request.message)
