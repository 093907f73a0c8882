"""Registry authentication: ``WWW-Authenticate`` challenges, Basic auth and Bearer tokens
(anonymous, with a password, or with an identity/refresh token), cached per scope until
they expire. Thread-safe: one Authorizer serves a pull's concurrent downloads."""

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pydocker.errdefs import Unauthorized
from pydocker.registry import transport
from pydocker.registry.errors import RegistryUnavailable

CLIENT_ID = "pydocker"
MIN_TOKEN_LIFETIME = 60  # seconds; what the token spec says to assume when none is given
EXPIRY_MARGIN = 5
_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?')


@dataclass
class Challenge:
    scheme: str  # lower-case: "basic" or "bearer"
    params: dict = field(default_factory=dict)


def parse_challenges(header):
    """Parse one ``WWW-Authenticate`` value into Challenges (several may be listed)."""
    challenges = []
    rest = (header or "").strip()
    while rest:
        scheme, _, rest = rest.partition(" ")
        params = {}
        while True:
            match = _PARAM_RE.match(rest)
            if not match:
                break
            params[match.group(1).lower()] = (match.group(2) or "").replace('\\"', '"') \
                if match.group(2) is not None else match.group(3)
            rest = rest[match.end():]
        challenges.append(Challenge(scheme.strip().lower(), params))
        rest = rest.lstrip(", ")
    return challenges


def repository_scope(path, actions):
    """``repository:library/busybox:pull,push`` for the registry's token service."""
    return f"repository:{path}:{','.join(actions)}"


def basic_header(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Authorizer:
    """Turns a registry's challenge and the wanted scopes into an Authorization header."""

    def __init__(self, credentials, ssl_context_for=lambda url: None):
        self._credentials = credentials
        self._ssl_context_for = ssl_context_for
        self._challenge = None
        self._tokens = {}
        self._refresh_token = credentials.identitytoken if credentials else ""
        self._lock = threading.Lock()
        self.last_refresh_token = ""

    @property
    def has_challenge(self):
        return self._challenge is not None

    def learn(self, www_authenticate):
        """Remember the registry's preferred challenge (Bearer over Basic)."""
        challenges = {c.scheme: c for c in parse_challenges(www_authenticate)}
        challenge = challenges.get("bearer") or challenges.get("basic")
        if challenge is None:
            raise Unauthorized(f"unsupported authentication challenge: {www_authenticate!r}")
        self._challenge = challenge

    def header(self, scopes, offline=False):
        """The Authorization value for ``scopes`` (None when no challenge was seen)."""
        challenge = self._challenge
        if challenge is None:
            return None
        creds = self._credentials
        if challenge.scheme == "basic":
            if not creds or not creds.username:
                raise Unauthorized("authentication required: no credentials for basic auth")
            return basic_header(creds.username, creds.password)
        if creds and creds.registrytoken:
            return "Bearer " + creds.registrytoken
        key = (challenge.params.get("realm"), challenge.params.get("service"), tuple(sorted(scopes)))
        with self._lock:
            token, expires = self._tokens.get(key, (None, 0))
            if token is None or time.monotonic() >= expires or offline:
                token, lifetime = self._fetch_token(challenge.params, sorted(scopes), offline)
                self._tokens[key] = (token, time.monotonic() + lifetime - EXPIRY_MARGIN)
        return "Bearer " + token

    def _fetch_token(self, params, scopes, offline):
        realm = params.get("realm")
        if not realm:
            raise Unauthorized("bearer challenge without a realm")
        if self._refresh_token:
            response = self._post_refresh(realm, params, scopes)
        else:
            response = self._get_token(realm, params, scopes, offline)
        with response:
            body = response.read()
            if response.status in (401, 403):
                raise Unauthorized(f"{_token_error(body)}")
            if response.status != 200:
                raise RegistryUnavailable(
                    f"token server {realm} answered {response.status}: {_token_error(body)}")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise RegistryUnavailable(f"token server {realm} sent invalid JSON: {exc}") from exc
        token = data.get("token") or data.get("access_token")
        if not token:
            raise RegistryUnavailable(f"token server {realm} returned no token")
        if data.get("refresh_token"):
            self._refresh_token = self.last_refresh_token = data["refresh_token"]
        lifetime = max(int(data.get("expires_in") or 0), MIN_TOKEN_LIFETIME)
        return token, lifetime

    def _get_token(self, realm, params, scopes, offline):
        query = [("service", params.get("service", ""))] + [("scope", s) for s in scopes]
        headers = {}
        creds = self._credentials
        if creds and creds.username:
            query.append(("account", creds.username))
            headers["Authorization"] = basic_header(creds.username, creds.password)
        if offline:
            query += [("offline_token", "true"), ("client_id", CLIENT_ID)]
        url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        return transport.send("GET", url, headers=headers, ssl_context=self._ssl_context_for(url))

    def _post_refresh(self, realm, params, scopes):
        form = urlencode({"grant_type": "refresh_token", "refresh_token": self._refresh_token,
                          "service": params.get("service", ""), "scope": " ".join(scopes),
                          "client_id": CLIENT_ID, "access_type": "offline"}).encode()
        return transport.send("POST", realm, body=form, ssl_context=self._ssl_context_for(realm),
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Content-Length": str(len(form))})


def _token_error(body):
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode(errors="replace").strip() or "no details"
    if isinstance(data, dict):
        errors = data.get("errors")
        if errors:
            return "; ".join(f"{e.get('code', '').lower()}: {e.get('message', '')}" for e in errors)
        return data.get("details") or data.get("error_description") or data.get("error") or str(data)
    return str(data)
