"""Routes of the archive endpoints: image save/load, container export/changes/commit,
``docker cp`` (``/containers/{id}/archive``) and ``/system/df``."""

from pydocker.daemon.http.router import Route
from pydocker.jobs import archives, commit, diskusage

TAR = "application/x-tar"


def bind_commit(call):
    q = call.query
    return commit.CommitRequest(
        container=q.str("container", ""), repo=q.str("repo", ""), tag=q.str("tag", ""),
        comment=q.str("comment", ""), author=q.str("author", ""), pause=q.bool("pause", True),
        changes=q.list("changes"), config=call.json(required=False))


def bind_path(call):
    return archives.ContainerArchiveRequest(call.args["name"], call.query.str("path", ""))


def bind_put(call):
    q = call.query
    return archives.ContainerArchiveRequest(call.args["name"], q.str("path", ""), call.body,
                                            q.bool("copyUIDGID"), q.bool("noOverwriteDirNonDir"))


def archive_routes():
    C = "/containers/{name}/"
    named = lambda call: archives.ContainerArchiveRequest(call.args["name"])
    return [
        Route("GET", "/images/get", "image.save", lambda call: archives.SaveRequest(call.query.list("names")),
              kind="stream", content_type=TAR),
        Route("GET", "/images/{name:.+}/get", "image.save", lambda call: archives.SaveRequest([call.args["name"]]),
              kind="stream", content_type=TAR),
        Route("POST", "/images/load", "image.load", lambda call: archives.LoadRequest(
            call.body, call.query.bool("quiet")), kind="stream", stream_body=True),
        Route("GET", C + "export", "container.export", named, kind="stream", content_type=TAR),
        Route("GET", C + "changes", "container.changes", named),
        Route("POST", "/commit", "container.commit", bind_commit, status=201),
        Route("HEAD", C + "archive", "container.archive.stat", bind_path, kind="stream"),
        Route("GET", C + "archive", "container.archive.get", bind_path, kind="stream", content_type=TAR),
        Route("PUT", C + "archive", "container.archive.put", bind_put),
        Route("GET", "/system/df", "system.df", lambda call: diskusage.DiskUsageRequest(call.version)),
    ]
