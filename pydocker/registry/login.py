"""The Engine API's ``/auth``: check credentials against a registry the way `docker login`
expects (ping, then Basic or a Bearer token fetched with the credentials)."""

from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter, Unauthorized
from pydocker.registry.client import RegistryClient, error_message
from pydocker.registry.credentials import INDEX_SERVER
from pydocker.registry.errors import RegistryUnavailable
from pydocker.reference import DEFAULT_DOMAIN


@dataclass
class LoginResult:
    status: str = "Login Succeeded"
    identity_token: str = ""

    def to_json(self):
        """The ``/auth`` response body."""
        return {"Status": self.status, "IdentityToken": self.identity_token}


def login_domain(server_address):
    """``https://index.docker.io/v1/`` or empty → docker.io; ``http://h:5000/`` → h:5000."""
    if not server_address or server_address.rstrip("/") == INDEX_SERVER.rstrip("/"):
        return DEFAULT_DOMAIN
    host = server_address.split("://", 1)[-1].split("/", 1)[0]
    if not host:
        raise InvalidParameter(f"invalid server address {server_address!r}")
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def login(registry_config, auth):
    """Return a LoginResult, or raise Unauthorized with the registry's reason."""
    if not auth.username and not auth.identitytoken:
        raise InvalidParameter("login needs a username and password (or an identity token)")
    domain = login_domain(auth.serveraddress)
    errors = []
    for endpoint in registry_config.endpoints(domain, for_push=True):
        client = RegistryClient(endpoint, auth, registry_config.ssl_context_for_url)
        try:
            client.ping()
        except RegistryUnavailable as exc:
            errors.append(exc)
            continue
        if not client.authorizer.has_challenge:
            return LoginResult()  # the registry asks for no credentials
        url = client.url("/v2/")
        authorization = client.authorizer.header([], offline=True)
        with client.request("GET", url, [], {"Authorization": authorization}) as response:
            body = response.read()
            if response.status == 401:
                raise Unauthorized(f"login to {domain} failed: {error_message(body)}")
            if response.status != 200:
                raise RegistryUnavailable(f"login to {domain}: GET {url} answered {response.status}")
        return LoginResult(identity_token=client.authorizer.last_refresh_token)
    raise errors[-1]
