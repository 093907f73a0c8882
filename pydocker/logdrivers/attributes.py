"""The extra attributes a log line carries: the container's labels and
environment variables named by ``--log-opt labels|labels-regex|env|env-regex``,
as Docker's log drivers collect them (shown by ``logs --details``)."""

import re
from urllib.parse import quote_plus

from pydocker.errdefs import InvalidParameter

OPTIONS = ("labels", "labels-regex", "env", "env-regex")


def validate(options):
    for key in ("labels-regex", "env-regex"):
        if key in options:
            try:
                re.compile(options[key])
            except re.error as e:
                raise InvalidParameter(f"invalid {key} {options[key]!r}: {e}") from None


def of_container(config, options):
    """{name: value} for ``config`` (a container's Config) under ``options``."""
    labels = config.get("Labels") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    attrs = {}
    for source, names_key, regex_key in ((labels, "labels", "labels-regex"), (env, "env", "env-regex")):
        names = {n for n in options.get(names_key, "").split(",") if n}
        pattern = re.compile(options[regex_key]) if options.get(regex_key) else None
        for name, value in source.items():
            if name in names or (pattern is not None and pattern.search(name)):
                attrs[name] = value
    return attrs


def details_prefix(attrs):
    """``logs --details``: ``k=v,k2=v2 `` sorted by key, query-escaped; a lone
    space when there are none, as dockerd writes it."""
    return ",".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted((attrs or {}).items())) + " "
