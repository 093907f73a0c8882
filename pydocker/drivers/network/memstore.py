"""An in-memory IAllocationStore: for tests, and to show what the SQLite store
must do. ``snapshot``/``from_snapshot`` stand in for a restart."""

import copy
import threading

from zope.interface import implementer

from pydocker.engine.errors import Conflict
from .interfaces import IAllocationStore
from .model import Endpoint, NetworkRecord


@implementer(IAllocationStore)
class MemoryAllocationStore:
    def __init__(self):
        self._lock = threading.Lock()
        self._networks = {}
        self._endpoints = {}
        self._allocations = {}  # network_id -> {ip: owner}

    def allocations(self, network_id):
        with self._lock:
            return dict(self._allocations.get(network_id, {}))

    def allocate(self, network_id, ip, owner):
        with self._lock:
            taken = self._allocations.setdefault(network_id, {})
            if ip in taken:
                raise Conflict(f"address {ip} is already in use on network {network_id[:12]}")
            taken[ip] = owner

    def release(self, network_id, ip):
        with self._lock:
            self._allocations.get(network_id, {}).pop(ip, None)

    def list_networks(self):
        with self._lock:
            return [copy.deepcopy(r) for r in self._networks.values()]

    def save_network(self, record):
        with self._lock:
            self._networks[record.id] = copy.deepcopy(record)

    def delete_network(self, network_id):
        with self._lock:
            self._networks.pop(network_id, None)
            self._allocations.pop(network_id, None)

    def list_endpoints(self):
        with self._lock:
            return [copy.deepcopy(e) for e in self._endpoints.values()]

    def save_endpoint(self, endpoint):
        with self._lock:
            self._endpoints[endpoint.endpoint_id] = copy.deepcopy(endpoint)

    def delete_endpoint(self, endpoint_id):
        with self._lock:
            self._endpoints.pop(endpoint_id, None)

    def snapshot(self):
        """Everything as JSON-able data, as a database would hold it."""
        with self._lock:
            return {
                "networks": [r.to_dict() for r in self._networks.values()],
                "endpoints": [e.to_dict() for e in self._endpoints.values()],
                "allocations": copy.deepcopy(self._allocations),
            }

    @classmethod
    def from_snapshot(cls, data):
        store = cls()
        for r in data["networks"]:
            store.save_network(NetworkRecord.from_dict(r))
        for e in data["endpoints"]:
            store.save_endpoint(Endpoint.from_dict(e))
        store._allocations = copy.deepcopy(data["allocations"])
        return store
