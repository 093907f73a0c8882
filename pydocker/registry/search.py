"""``docker search``: the v1 index search API (``GET /v1/search?q=&n=``).

Registries that speak only the v2 API (distribution, Debian's docker-registry) have no search;
they answer 404 and the caller gets an error that says so instead of an empty result.
"""

import json
from urllib.parse import urlencode

from pydocker.errdefs import InvalidParameter, NotFound, SystemError_
from pydocker.registry.client import RegistryClient, raise_for_status
from pydocker.registry.endpoints import Endpoint
from pydocker.registry.errors import RegistryUnavailable
from pydocker.reference import DEFAULT_DOMAIN, split_domain

INDEX_URL = "https://index.docker.io"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_ANSWER = 8 << 20


def split_term(term):
    """``127.0.0.1:5000/busy`` → (``127.0.0.1:5000``, ``busy``); ``busy`` → (docker.io, busy)."""
    if not term or not term.strip():
        raise InvalidParameter("search term must not be empty")
    term = term.strip()
    if "/" in term:
        domain, path = split_domain(term)
        if domain != DEFAULT_DOMAIN:
            return domain, path
    return DEFAULT_DOMAIN, term


def _endpoints(config, domain):
    if domain == DEFAULT_DOMAIN:
        return [Endpoint(INDEX_URL, config.ssl_context("index.docker.io"))]
    return config.endpoints(domain, for_push=True)


def search(config, term, limit=DEFAULT_LIMIT, credentials=None):
    """The index's result list (dicts with name, description, star_count, is_official,
    is_automated), at most ``limit`` long."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(f"limit {limit} is outside the range of [1, {MAX_LIMIT}]")
    domain, query = split_term(term)
    errors = []
    for endpoint in _endpoints(config, domain):
        client = RegistryClient(endpoint, credentials, config.ssl_context_for_url)
        url = client.url("/v1/search?" + urlencode({"q": query, "n": limit}))
        try:
            response = client.request("GET", url, [])
        except RegistryUnavailable as exc:
            errors.append(exc)
            continue
        with response:
            if response.status == 404:
                raise NotFound(f"{domain} does not support search: it has no v1 search API "
                               f"(GET /v1/search answered 404)")
            if response.status != 200:
                raise_for_status(response, f"searching {domain}")
            try:
                answer = json.loads(response.read(MAX_ANSWER))
            except ValueError as exc:
                raise SystemError_(f"search answer from {domain} is not JSON: {exc}") from exc
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise SystemError_(f"search answer from {domain} has no result list")
        return [_result(r) for r in results if isinstance(r, dict)][:limit]
    raise errors[-1]


def _result(entry):
    return {"name": str(entry.get("name", "")), "description": str(entry.get("description", "")),
            "star_count": int(entry.get("star_count") or 0),
            "is_official": bool(entry.get("is_official")),
            "is_automated": bool(entry.get("is_automated"))}
