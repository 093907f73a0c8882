"""Who holds which address on each network: the NetworkService's IP
allocation. Reactor thread only, so taking an address needs no lock; an
address is taken before the driver's connect runs and given back if it
fails."""

from pydocker.drivers.network import ipam


class AddressBook:
    def __init__(self):
        self._taken = {}  # network id -> {address: endpoint id}

    def take(self, network, owner, requested=""):
        """An address of ``network`` for ``owner``: ``requested`` when free,
        else the lowest free one of its range (``ipam.choose``'s rules)."""
        taken = self._taken.setdefault(network.id, {})
        address = ipam.choose(network, taken, requested or None)
        taken[address] = owner
        return address

    def give_back(self, network_id, address):
        self._taken.get(network_id, {}).pop(address, None)

    def forget(self, network_id):
        """A removed network's addresses."""
        self._taken.pop(network_id, None)

    def taken(self, network_id):
        return dict(self._taken.get(network_id, {}))
