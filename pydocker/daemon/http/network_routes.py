"""The /networks endpoints of the Engine API and their binders."""

from pydocker.daemon.http.router import Route
from pydocker.jobs import networks


def _name(call):
    return networks.NetworkRequest(call.args["id"])


def _connect(call):
    return networks.ConnectRequest(call.args["id"], call.json(required=False) or {})


def network_routes():
    return [
        Route("GET", "/networks", "network.list", lambda call: networks.ListRequest(call.query.filters())),
        Route("POST", "/networks/create", "network.create",
              lambda call: networks.CreateRequest(call.json()), status=201),
        Route("POST", "/networks/prune", "network.prune",
              lambda call: networks.PruneRequest(call.query.filters())),
        Route("GET", "/networks/{id}", "network.inspect", _name),
        Route("DELETE", "/networks/{id}", "network.remove", _name, status=204),
        Route("POST", "/networks/{id}/connect", "network.connect", _connect),
        Route("POST", "/networks/{id}/disconnect", "network.disconnect", _connect),
    ]
