"""The route of ``POST /build`` and its binder: the query as dockerd reads it.

Everything the binder refuses answers with a status before the stream starts: an
invalid tag, malformed JSON, BuildKit (``version=2``), ``squash``, a platform this
daemon cannot build for.
"""

import base64
import json

from pydocker.builder.dispatcher import BuildOptions
from pydocker.builder.gofmt import parse_duration
from pydocker.builder.instructions import build_platform
from pydocker.daemon.http.router import Route
from pydocker.errdefs import InvalidParameter
from pydocker.jobs.build import BuildRequest
from pydocker.jobs.buildcache import BuildPruneRequest
from pydocker.registry import AuthConfig
from pydocker.registry.platform import Platform
from pydocker.reference import parse_reference

BUILDKIT_REFUSED = ("BuildKit is not supported by this daemon: use the classic builder "
                    "(DOCKER_BUILDKIT=0, or an API client's version=1)")
_LIMITS = (("memory", "Memory"), ("memswap", "MemorySwap"), ("cpushares", "CpuShares"),
           ("cpuperiod", "CpuPeriod"), ("cpuquota", "CpuQuota"))
_HOST_ARCH = Platform.host()


def _json_param(call, name, kind, what):
    value = call.query.str(name)
    if value in (None, ""):
        return kind()
    try:
        parsed = json.loads(value)
    except ValueError as e:
        raise InvalidParameter(f"error reading {what}: {e}") from None
    if parsed is None:
        return kind()
    if not isinstance(parsed, kind):
        raise InvalidParameter(f"error reading {what}: expected a JSON {kind.__name__}")
    return parsed


def _tags(call):
    refs = []
    for text in call.query.list("t"):
        ref = parse_reference(text, default_tag=False)
        if ref.digest:
            raise InvalidParameter(f"invalid reference format: {text} (a build tag cannot have a digest)")
        refs.append(ref if ref.tag else ref.with_tag("latest"))
    return refs


def _platform(text):
    if not text:
        return ""
    wanted = build_platform(text)
    if (wanted.architecture, wanted.variant) != (_HOST_ARCH.architecture, _HOST_ARCH.variant):
        raise InvalidParameter(f"platform {wanted} is not supported: this daemon builds for {_HOST_ARCH}")
    return str(wanted)


def _host_config(call):
    q = call.query
    host = {"NetworkMode": q.str("networkmode", "") or "default"}
    extra_hosts = [h for value in q.list("extrahosts") for h in value.split(",") if h]
    if extra_hosts:
        host["ExtraHosts"] = extra_hosts
    for name, key in _LIMITS + (("shmsize", "ShmSize"),):
        value = q.int(name, 0)
        if value:
            host[key] = value
    for name, key in (("cpusetcpus", "CpusetCpus"), ("cpusetmems", "CpusetMems"), ("cgroupparent", "CgroupParent")):
        if q.str(name):
            host[key] = q.str(name)
    ulimits = _json_param(call, "ulimits", list, "ulimit settings")
    if ulimits:
        host["Ulimits"] = ulimits
    if q.list("securityopt"):
        raise InvalidParameter("The daemon on this platform does not support setting security options on build")
    return host


def _registry_config(call):
    """X-Registry-Config: base64 JSON {registry: AuthConfig}; undecodable means none (as dockerd)."""
    header = call.header("X-Registry-Config")
    if isinstance(header, bytes):
        header = header.decode("ascii", "replace")
    if not header:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {registry: AuthConfig.from_json(auth) for registry, auth in data.items() if isinstance(auth, dict)}


def bind_build(call):
    q = call.query
    version = q.str("version", "") or "1"
    if version == "2":
        raise InvalidParameter(BUILDKIT_REFUSED)
    if version != "1":
        raise InvalidParameter(f"invalid version {version}")
    if q.bool("squash"):
        raise InvalidParameter("squash is only supported with experimental mode")
    build_args = _json_param(call, "buildargs", dict, "build args")
    if not all(isinstance(v, (str, type(None))) for v in build_args.values()):
        raise InvalidParameter("error reading build args: values must be strings or null")
    labels = _json_param(call, "labels", dict, "labels")
    if not all(isinstance(v, str) for v in labels.values()):
        raise InvalidParameter("error reading labels: values must be strings")
    cache_from = _json_param(call, "cachefrom", list, "cache-from")
    forcerm = q.bool("forcerm")
    options = BuildOptions(
        tags=_tags(call), dockerfile=q.str("dockerfile", "") or "", build_args=build_args, labels=labels,
        target=q.str("target", "") or "", nocache=q.bool("nocache"),
        rm=True if forcerm or not q.str("rm") else q.bool("rm"), forcerm=forcerm, pull=q.bool("pull"),
        quiet=q.bool("q"), cache_from=cache_from, host_config=_host_config(call),
        platform=_platform(q.str("platform", "")), aux=call.version >= (1, 30))
    return BuildRequest(call.body, options, remote=q.str("remote", "") or "",
                        auth_configs=_registry_config(call))


# The filters dockerd's /build/prune accepts (BuildKit's, which 20.10 checks even for a
# daemon whose builds were all classic ones).
_PRUNE_FAILED = "failed to prune build cache: "
_PRUNE_FILTERS = ("until", "unused-for", "label", "label!", "id", "parent", "type", "description", "inuse",
                  "shared", "private")


def bind_build_prune(call):
    q = call.query
    filters = q.filters()
    for key in filters:
        if key not in _PRUNE_FILTERS:
            raise InvalidParameter(f"{_PRUNE_FAILED}Invalid filter '{key}'")
    if filters.get("until") and filters.get("unused-for"):
        raise InvalidParameter(f'{_PRUNE_FAILED}conflicting filters: "until" and "unused-for"')
    if any(len(values) > 1 for key, values in filters.items() if not key.startswith("label")):
        raise InvalidParameter(f"{_PRUNE_FAILED}filters expect only one value")
    age = None
    for key in ("until", "unused-for"):
        if filters.get(key):
            try:
                age = parse_duration(filters[key][0], key)
            except InvalidParameter:
                raise InvalidParameter(f"{_PRUNE_FAILED}\"{key}\" filter expects a duration (e.g., '24h'): "
                                       f"time: invalid duration \"{filters[key][0]}\"") from None
    keep = q.str("keep-storage", "") or "0"
    if not keep.lstrip("-").isdigit():
        raise InvalidParameter(f"keep-storage is in bytes and expects an integer, got {keep}: "
                               f"strconv.Atoi: parsing \"{keep}\": invalid syntax")
    return BuildPruneRequest(older_than=age, labels=filters.get("label", []), not_labels=filters.get("label!", []),
                             record_filters={k: v[0] if v else "" for k, v in filters.items()
                                             if k not in ("until", "unused-for", "label", "label!")},
                             keep_storage=max(0, int(keep)), all=q.bool("all"))


def build_routes():
    return [Route("POST", "/build", "build", bind_build, kind="stream", stream_body=True),
            Route("POST", "/build/prune", "build.prune", bind_build_prune)]
