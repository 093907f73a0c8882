"""The route table: every (method, path) the daemon serves, the job behind it and its binder."""

from pydocker.daemon.http.archive_routes import archive_routes
from pydocker.daemon.http.build_routes import build_routes
from pydocker.daemon.http.distribution_routes import bind_pull, distribution_routes
from pydocker.daemon.http.network_routes import network_routes
from pydocker.daemon.http.router import Route
from pydocker.errdefs import InvalidParameter
from pydocker.fields import STR_MAP, UINT_PAIR, check, uint_pair
from pydocker.jobs import attach, containers, execs, images, lifecycle, logs, stats, swarm, system, update, volumes
from pydocker.jobs.system import parse_timestamp
from pydocker.registry.platform import Platform


def bind_events(call):
    q = call.query
    return system.EventsRequest(
        since=system.parse_timestamp(q.str("since"), "since"),
        until=system.parse_timestamp(q.str("until"), "until"),
        filters=q.filters(),
    )


PING_HEADERS = (
    (b"Cache-Control", b"no-cache, no-store, must-revalidate"),
    (b"Pragma", b"no-cache"),
    (b"Builder-Version", b"1"),
    (b"Swarm", b"inactive"),
)


def system_routes():
    return [
        Route("GET", "/_ping", "ping", kind="text", content_type=b"text/plain; charset=utf-8", headers=PING_HEADERS),
        Route("HEAD", "/_ping", "ping", kind="text", content_type=b"text/plain; charset=utf-8", headers=PING_HEADERS),
        Route("GET", "/version", "version"),
        Route("GET", "/info", "info"),
        Route("GET", "/events", "events", bind_events, kind="stream"),
        # pydocker's own, for debugging: the names of the registered jobs.
        Route("GET", "/debug/commands", "commands"),
    ]


def bind_image_create(call):
    q = call.query
    if q.str("fromSrc"):
        return images.ImportRequest(source=q.str("fromSrc"), body=call.body, repo=q.str("repo", ""),
                                    tag=q.str("tag", ""), changes=q.list("changes"), message=q.str("message", ""))
    if q.str("fromImage"):
        return bind_pull(call)
    raise InvalidParameter("either fromSrc or fromImage must be given")


def image_routes():
    name = lambda call: images.ImageNameRequest(call.args["name"], call.version)
    return [
        Route("POST", "/images/create", "image.create", bind_image_create, kind="stream", stream_body=True),
        Route("GET", "/images/json", "image.list", lambda call: images.ListImagesRequest(
            all=call.query.bool("all"), filters=call.query.filters(), digests=call.query.bool("digests"),
            version=call.version)),
        Route("GET", "/images/{name:.+}/json", "image.inspect", name),
        Route("GET", "/images/{name:.+}/history", "image.history", name),
        Route("POST", "/images/{name:.+}/tag", "image.tag", lambda call: images.TagRequest(
            call.args["name"], call.query.str("repo", ""), call.query.str("tag", "")), status=201),
        Route("DELETE", "/images/{name:.+}", "image.remove", lambda call: images.RemoveImageRequest(
            call.args["name"], call.query.bool("force"), call.query.bool("noprune"))),
        Route("POST", "/images/prune", "image.prune", lambda call: images.PruneImagesRequest(call.query.filters())),
    ]


def bind_create(call):
    # The platform query came with API 1.41; an invalid one is a 400 before the body is read.
    platform = call.query.str("platform") if call.version >= (1, 41) else None
    platform = Platform.parse(platform) if platform else None
    return containers.CreateRequest(name=call.query.str("name", ""), body=call.json(),
                                    version=call.version, platform=platform)


def bind_logs(call):
    q = call.query
    tail = q.str("tail", "all")
    if tail != "all":
        try:
            tail = int(tail)
        except ValueError:
            raise InvalidParameter(f"invalid value for query parameter 'tail': {tail!r}") from None
    return logs.LogsRequest(
        name=call.args["name"], follow=q.bool("follow"), stdout=q.bool("stdout"), stderr=q.bool("stderr"),
        since=parse_timestamp(q.str("since"), "since") or 0, until=parse_timestamp(q.str("until"), "until") or 0,
        timestamps=q.bool("timestamps"), tail=None if tail == "all" else tail, details=q.bool("details"))


def bind_attach(call, raw=False):
    q = call.query
    return attach.AttachRequest(call.args["name"], q.bool("stdin"), q.bool("stdout"), q.bool("stderr"),
                                q.bool("stream"), q.bool("logs"), q.str("detachKeys", ""), call.version, raw)


def bind_exec_start(call):
    body = call.json(required=False) or {}
    detach = body.get("Detach", False)
    if not isinstance(detach, bool):
        raise InvalidParameter("invalid type for field Detach: expected boolean")
    size = uint_pair(check(body, {"ConsoleSize": UINT_PAIR}, "").get("ConsoleSize"))
    return execs.ExecStartRequest(call.args["id"], detach, bool(body.get("Tty")), call.version,
                                  tuple(size) if all(size) else ())


def bind_remove(call):
    return lifecycle.RemoveRequest(call.args["name"], call.query.bool("force"), call.query.bool("v"),
                                    call.query.bool("link"))


def container_routes():
    C = "/containers/{name}"
    named = lambda call: containers.ContainerRequest(call.args["name"], call.query.bool("size"))
    stopping = lambda call: lifecycle.StopRequest(call.args["name"], call.query.int("t"), call.query.str("signal", ""))
    return [
        Route("POST", "/containers/create", "container.create", bind_create, status=201),
        Route("GET", "/containers/json", "container.list", lambda call: containers.ListRequest(
            all=call.query.bool("all"), limit=call.query.int("limit", -1), size=call.query.bool("size"),
            filters=call.query.filters())),
        Route("GET", C + "/json", "container.inspect", named),
        Route("POST", C + "/start", "container.start", named, status=204),
        Route("POST", C + "/stop", "container.stop", stopping, status=204),
        Route("POST", C + "/restart", "container.restart", stopping, status=204),
        Route("POST", C + "/kill", "container.kill", lambda call: lifecycle.KillRequest(
            call.args["name"], call.query.str("signal", "KILL") or "KILL"), status=204),
        Route("POST", C + "/wait", "container.wait", lambda call: lifecycle.WaitRequest(
            call.args["name"], call.query.str("condition", "not-running") or "not-running"), kind="stream"),
        Route("DELETE", C, "container.remove", bind_remove, status=204),
        # A legacy link is removed by its name, /<linking container>/<alias>.
        Route("DELETE", "/containers/{name:[^/]+/[^/]+}", "container.remove", bind_remove, status=204),
        Route("POST", C + "/rename", "container.rename", lambda call: containers.RenameRequest(
            call.args["name"], call.query.str("name", "")), status=204),
        Route("POST", C + "/pause", "container.pause", named, status=204),
        Route("POST", C + "/unpause", "container.unpause", named, status=204),
        Route("GET", C + "/logs", "container.logs", bind_logs, kind="stream"),
        Route("POST", C + "/attach", "container.attach", bind_attach,
              kind="hijack", content_type="application/vnd.docker.raw-stream"),
        Route("GET", C + "/attach/ws", "container.attach", lambda call: bind_attach(call, raw=True),
              kind="websocket"),
        Route("POST", C + "/resize", "container.resize", lambda call: attach.ResizeRequest(
            call.args["name"], call.query.int("h", 0), call.query.int("w", 0))),
        Route("POST", C + "/exec", "exec.create", lambda call: execs.ExecCreateRequest(
            call.args["name"], call.json()), status=201),
        Route("POST", "/exec/{id}/start", "exec.start", bind_exec_start, kind="hijack",
              content_type="application/vnd.docker.raw-stream"),
        Route("GET", "/exec/{id}/json", "exec.inspect", lambda call: execs.ExecRequest(call.args["id"])),
        Route("POST", "/exec/{id}/resize", "exec.resize", lambda call: execs.ExecResizeRequest(
            call.args["id"], call.query.int("h", 0), call.query.int("w", 0))),
        Route("GET", C + "/stats", "container.stats", lambda call: stats.StatsRequest(
            call.args["name"], call.query.bool("stream", True), call.query.bool("one-shot")), kind="stream"),
        Route("GET", C + "/top", "container.top", lambda call: stats.TopRequest(
            call.args["name"], call.query.str("ps_args", "-ef") or "-ef")),
        Route("POST", C + "/update", "container.update", lambda call: update.UpdateRequest(
            call.args["name"], call.json(), call.version)),
        Route("POST", "/containers/prune", "container.prune", lambda call: lifecycle.PruneRequest(
            call.query.filters())),
    ]


def bind_volume_create(call):
    body = check(call.json(), {"Name": str, "Driver": str, "DriverOpts": STR_MAP, "Labels": STR_MAP}, "")
    return volumes.CreateVolumeRequest(body.get("Name") or "", body.get("Driver") or "local",
                                       body.get("DriverOpts") or {}, body.get("Labels") or {})


def volume_routes():
    named = lambda call: volumes.VolumeNameRequest(call.args["name"], call.query.bool("force"))
    return [
        Route("POST", "/volumes/create", "volume.create", bind_volume_create, status=201),
        Route("GET", "/volumes", "volume.list", lambda call: volumes.ListVolumesRequest(call.query.filters())),
        Route("POST", "/volumes/prune", "volume.prune", lambda call: volumes.PruneVolumesRequest(
            call.query.filters(), call.version)),
        Route("GET", "/volumes/{name}", "volume.inspect", named),
        Route("DELETE", "/volumes/{name}", "volume.remove", named, status=204),
    ]


def swarm_routes():
    def answer(message):
        return lambda call: swarm.InactiveRequest(message)
    routes = [Route("GET", "/swarm", "swarm.inactive", answer(swarm.NOT_A_MANAGER)),
              Route("POST", "/swarm/leave", "swarm.inactive", answer(swarm.NOT_A_MEMBER)),
              Route("GET", "/swarm/unlockkey", "swarm.inactive", answer(swarm.NOT_A_MANAGER))]
    routes += [Route("POST", "/swarm/" + action, "swarm.inactive", answer(swarm.NOT_SUPPORTED))
               for action in ("init", "join", "update", "unlock")]
    routes += [Route(method, "/%s{rest:(/.*)?}" % kind, "swarm.inactive", answer(swarm.NOT_A_MANAGER))
               for kind in ("nodes", "services", "tasks", "secrets", "configs")
               for method in ("GET", "POST", "DELETE")]
    return routes


def all_routes():
    return (system_routes() + image_routes() + container_routes() + volume_routes() + network_routes()
            + distribution_routes() + archive_routes() + build_routes() + swarm_routes())
