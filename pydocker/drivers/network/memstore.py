"""An in-memory IAllocationStore: for tests, and to show what the SQLite store
must do. ``snapshot``/``from_snapshot`` stand in for a restart."""

import copy
import threading

from zope.interface import implementer

from pydocker.errdefs import Conflict
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

    def add_endpoint(self, endpoint):
        with self._lock:
            taken = self._allocations.setdefault(endpoint.network_id, {})
            if endpoint.ip_address in taken:
                raise Conflict(f"address {endpoint.ip_address} is already in use on network "
                               f"{endpoint.network_id[:12]}")
            taken[endpoint.ip_address] = endpoint.endpoint_id
            self._endpoints[endpoint.endpoint_id] = copy.deepcopy(endpoint)

    def remove_endpoint(self, endpoint):
        with self._lock:
            self._endpoints.pop(endpoint.endpoint_id, None)
            self._allocations.get(endpoint.network_id, {}).pop(endpoint.ip_address, None)

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
            self._endpoints = {k: e for k, e in self._endpoints.items() if e.network_id != network_id}

    def list_endpoints(self):
        with self._lock:
            return [copy.deepcopy(e) for e in self._endpoints.values()]

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
        store._endpoints = {e["endpoint_id"]: Endpoint.from_dict(e) for e in data["endpoints"]}
        store._allocations = copy.deepcopy(data["allocations"])
        return store
