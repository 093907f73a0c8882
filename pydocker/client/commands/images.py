"""Image commands: ``images``, ``pull``, ``push``, ``import``, ``load``, ``save``,
``tag``, ``rmi``, ``history``, ``image prune``."""

import time

from ..api import filters_param
from ..errors import ClientError
from ..flags import FlagSet
from ..formatter import Context, write_rows
from ..localio import (binary, file_chunks, isatty, refuse_terminal, stdout_bytes,
                       write_response_to)
from ..reference import auth_header, registry_of, split_reference
from pydocker.timeutil import human_duration

from ..units import human_size


def short_id(image_id, no_trunc=False):
    if no_trunc:
        return image_id
    return image_id.split(":", 1)[-1][:12]


def _quoted(name):
    from urllib.parse import quote

    return quote(name, safe="/:@")


# ---------------------------------------------------------------- images

class ImageRow(Context):
    HEADERS = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG",
               "Digest": "DIGEST", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
               "Size": "SIZE", "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE",
               "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE"}

    def __init__(self, image, repository, tag, digest, no_trunc, now):
        self._image = image
        self.ID = short_id(image.get("Id", ""), no_trunc)
        self.Repository, self.Tag, self.Digest = repository, tag, digest
        created = image.get("Created", 0)
        self.CreatedSince = human_duration(now - created) + " ago" if created else "N/A"
        self.CreatedAt = time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(created))
        self.Size = human_size(image.get("Size", 0))
        self.VirtualSize = human_size(image.get("VirtualSize", image.get("Size", 0)), 4)
        containers = image.get("Containers", -1)
        self.Containers = "N/A" if containers < 0 else str(containers)
        shared = image.get("SharedSize", -1)
        self.SharedSize = "N/A" if shared < 0 else human_size(shared)
        self.UniqueSize = "N/A" if shared < 0 else human_size(image.get("Size", 0) - shared)


def image_rows(images, no_trunc=False, show_dangling=True):
    """One row per tag (or per digest when untagged), as ``docker images`` lists them."""
    now = time.time()
    rows = []
    for image in images:
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        digests = [d for d in image.get("RepoDigests") or [] if d != "<none>@<none>"]
        digest_of = {d.split("@")[0]: d.split("@", 1)[1] for d in digests}
        for tag_ref in tags:
            repo, tag = split_reference(tag_ref)
            rows.append(ImageRow(image, repo, tag or "<none>",
                                 digest_of.get(repo, "<none>"), no_trunc, now))
        if not tags:
            if digests:
                for digest_ref in digests:
                    repo, digest = digest_ref.split("@", 1)
                    rows.append(ImageRow(image, repo, "<none>", digest, no_trunc, now))
            elif show_dangling:
                rows.append(ImageRow(image, "<none>", "<none>", "<none>", no_trunc, now))
    return rows


def images(cli, argv):
    flags = FlagSet("images [OPTIONS] [REPOSITORY[:TAG]]", "List images", max_args=1)
    flags.bool("-a", "--all", help="Show all images (default hides intermediate images)")
    flags.bool("--digests", help="Show digests")
    flags.list("-f", "--filter", help="Filter output based on conditions provided",
               metavar="filter")
    flags.string("--format", help="Format output using a custom template")
    flags.bool("--no-trunc", help="Don't truncate output")
    flags.bool("-q", "--quiet", help="Only show image IDs")
    opts, args = flags.parse(argv)
    filters = filters_param(opts.filter) or {}
    if args:
        filters.setdefault("reference", {})[args[0]] = True
    data = cli.api.get("/images/json", {"all": opts.all or None, "filters": filters or None})
    rows = image_rows(data, opts.no_trunc)
    if opts.quiet:
        seen = []
        for row in rows:
            if row.ID not in seen:
                seen.append(row.ID)
        cli.out.write("".join(i + "\n" for i in seen))
        return 0
    columns = "{{.Repository}}\t{{.Tag}}\t" + ("{{.Digest}}\t" if opts.digests else "")
    default = "table " + columns + "{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    write_rows(cli.out, opts.format, rows, default, ImageRow.HEADERS)
    return 0


# ------------------------------------------------------------- pull/push

def pull_image(cli, ref, quiet=False, out=None, all_tags=False, platform=None,
               announce_default_tag=True):
    """``POST /images/create?fromImage=`` with progress, as ``pull`` and ``run`` need."""
    from ..progress import display_stream

    out = out or cli.out
    name, tag = split_reference(ref)
    if not tag and not all_tags:
        tag = "latest"
        if not quiet and announce_default_tag:
            out.write("Using default tag: latest\n")
    headers = {"X-Registry-Auth": auth_header(cli.config_file(), registry_of(name))}
    params = {"fromImage": name, "tag": tag or None, "platform": platform}
    messages = cli.api.stream_json("POST", "/images/create", params, b"", headers)
    display_stream(messages, out, quiet=quiet)
    return f"{name}:{tag}" if tag and not tag.startswith("sha256:") else name


def pull(cli, argv):
    flags = FlagSet("pull [OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry",
                    min_args=1, max_args=1)
    flags.bool("-a", "--all-tags", help="Download all tagged images in the repository")
    flags.bool("-q", "--quiet", help="Suppress verbose output")
    flags.string("--platform", help="Set platform if server is multi-platform capable")
    opts, args = flags.parse(argv)
    name = pull_image(cli, args[0], opts.quiet, all_tags=opts.all_tags, platform=opts.platform)
    if not opts.all_tags:
        cli.out.write(_canonical(name) + "\n")
    return 0


def _canonical(name):
    """``busybox:latest`` -> ``docker.io/library/busybox:latest`` (what pull prints last)."""
    if registry_of(name) != "docker.io":
        return name
    path = name.split("/", 1)[1] if name.startswith(("docker.io/", "index.docker.io/")) else name
    return "docker.io/" + (path if "/" in split_reference(path)[0] else "library/" + path)


def push(cli, argv):
    from ..progress import display_stream

    flags = FlagSet("push [OPTIONS] NAME[:TAG]", "Upload an image to a registry",
                    min_args=1, max_args=1)
    flags.bool("-a", "--all-tags", help="Push all tags of an image to the repository")
    flags.bool("-q", "--quiet", help="Suppress verbose output")
    opts, args = flags.parse(argv)
    name, tag = split_reference(args[0])
    if not tag and not opts.all_tags:
        tag = "latest"
        if not opts.quiet:
            cli.out.write("Using default tag: latest\n")
    headers = {"X-Registry-Auth": auth_header(cli.config_file(), registry_of(name))}
    messages = cli.api.stream_json("POST", f"/images/{_quoted(name)}/push",
                                   {"tag": tag or None}, b"", headers)
    display_stream(messages, cli.out, quiet=opts.quiet)
    if opts.quiet:
        cli.out.write(f"{name}:{tag}\n" if tag else f"{name}\n")
    return 0


# --------------------------------------------------------- import/load/save

def import_(cli, argv):
    flags = FlagSet("import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                    "Import the contents from a tarball to create a filesystem image",
                    min_args=1, max_args=2)
    flags.list("-c", "--change", help="Apply Dockerfile instruction to the created image")
    flags.string("-m", "--message", help="Set commit message for imported image")
    flags.string("--platform", help="Set platform if server is multi-platform capable")
    opts, args = flags.parse(argv)
    source = args[0]
    repo, tag = split_reference(args[1]) if len(args) > 1 else (None, None)
    params = {"repo": repo, "tag": tag or None, "message": opts.message,
              "changes": opts.change or None, "platform": opts.platform}
    if source == "-":
        body = file_chunks(binary(cli.stdin))
        params["fromSrc"] = "-"
    elif "://" in source:
        body = b""
        params["fromSrc"] = source
    else:
        try:
            handle = open(source, "rb")
        except OSError as exc:
            raise ClientError(f"open {source}: {exc.strerror.lower()}") from None
        body = file_chunks(handle)
        params["fromSrc"] = "-"
    headers = {"Content-Type": "application/x-tar"} if body != b"" else {}
    messages = cli.api.stream_json("POST", "/images/create", params, body, headers)
    _print_import_result(cli, messages)
    return 0


def _print_import_result(cli, messages):
    """Import prints the new image ID (the last status) unless the stream failed."""
    from ..api import check_stream_error

    for message in messages:
        check_stream_error(message)
        status = message.get("status", "")
        if status and not message.get("progressDetail"):
            cli.out.write(status.strip() + "\n")


def load(cli, argv):
    from ..progress import display_stream

    flags = FlagSet("load [OPTIONS]", "Load an image from a tar archive or STDIN", max_args=0)
    flags.string("-i", "--input", help="Read from tar archive file, instead of STDIN")
    flags.bool("-q", "--quiet", help="Suppress the load output")
    opts, _ = flags.parse(argv)
    if opts.input:
        try:
            source = open(opts.input, "rb")
        except OSError as exc:
            raise ClientError(f"open {opts.input}: {exc.strerror.lower()}") from None
    else:
        source = binary(cli.stdin)
        if isatty(source):
            raise ClientError("requested load from stdin, but stdin is empty")
    with source:
        messages = cli.api.stream_json("POST", "/images/load", {"quiet": opts.quiet},
                                       file_chunks(source),
                                       {"Content-Type": "application/x-tar"})
        display_stream(messages, cli.out)
    return 0


def save(cli, argv):
    flags = FlagSet("save [OPTIONS] IMAGE [IMAGE...]",
                    "Save one or more images to a tar archive (streamed to STDOUT by default)",
                    min_args=1)
    flags.string("-o", "--output", help="Write to a file, instead of STDOUT")
    opts, args = flags.parse(argv)
    target = stdout_bytes(cli)
    if not opts.output:
        refuse_terminal(target)
    response = cli.api.request("GET", "/images/get", {"names": args})
    write_response_to(response, opts.output, target)
    return 0


def tag(cli, argv):
    flags = FlagSet("tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                    min_args=2, max_args=2)
    _, args = flags.parse(argv)
    repo, tag_name = split_reference(args[1])
    cli.api.post(f"/images/{_quoted(args[0])}/tag", {"repo": repo, "tag": tag_name or "latest"})
    return 0


def rmi(cli, argv):
    flags = FlagSet("rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", min_args=1)
    flags.bool("-f", "--force", help="Force removal of the image")
    flags.bool("--no-prune", help="Do not delete untagged parents")
    opts, args = flags.parse(argv)
    failed = False
    for name in args:
        try:
            results = cli.api.delete(f"/images/{_quoted(name)}",
                                     {"force": opts.force or None,
                                      "noprune": opts.no_prune or None}) or []
        except ClientError as exc:
            cli.err.write(f"{exc}\n")
            failed = True
            continue
        for entry in results:
            for key in ("Untagged", "Deleted"):
                if entry.get(key):
                    cli.out.write(f"{key}: {entry[key]}\n")
    return 1 if failed else 0


class HistoryRow(Context):
    HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
               "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}

    def __init__(self, entry, human, no_trunc, now):
        image_id = entry.get("Id", "")
        self.ID = "<missing>" if image_id in ("", "<missing>") else short_id(image_id, no_trunc)
        created = entry.get("Created", 0)
        self.CreatedSince = human_duration(now - created) + " ago" if human else \
            time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created))
        self.CreatedAt = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created))
        created_by = " ".join((entry.get("CreatedBy") or "").split("\t")).replace("\n", " ")
        self.CreatedBy = created_by if no_trunc else ellipsis(created_by, 45)
        size = entry.get("Size", 0)
        self.Size = human_size(size) if human else str(size)
        self.Comment = entry.get("Comment", "")


def ellipsis(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"


def history(cli, argv):
    flags = FlagSet("history [OPTIONS] IMAGE", "Show the history of an image",
                    min_args=1, max_args=1)
    flags.string("--format", help="Format output using a custom template")
    flags.bool("-H", "--human", default=True, help="Print sizes and dates in human readable "
               "format")
    flags.bool("--no-trunc", help="Don't truncate output")
    flags.bool("-q", "--quiet", help="Only show image IDs")
    opts, args = flags.parse(argv)
    entries = cli.api.get(f"/images/{_quoted(args[0])}/history")
    now = time.time()
    rows = [HistoryRow(e, opts.human, opts.no_trunc, now) for e in entries]
    if opts.quiet:
        cli.out.write("".join(r.ID + "\n" for r in rows))
        return 0
    default = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    write_rows(cli.out, opts.format, rows, default, HistoryRow.HEADERS)
    return 0


def prune(cli, argv):
    from .containers import report_prune
    from ..prompt import confirm

    flags = FlagSet("image prune [OPTIONS]", "Remove unused images", max_args=0)
    flags.bool("-a", "--all", help="Remove all unused images, not just dangling ones")
    flags.list("--filter", help="Provide filter values (e.g. \"until=<timestamp>\")")
    flags.bool("-f", "--force", help="Do not prompt for confirmation")
    opts, _ = flags.parse(argv)
    warning = ("WARNING! This will remove all images without at least one container "
               "associated to them." if opts.all else
               "WARNING! This will remove all dangling images.")
    if not opts.force and not confirm(cli, warning + "\nAre you sure you want to continue?"):
        return 0
    filters = filters_param(opts.filter) or {}
    if opts.all:
        filters["dangling"] = {"false": True}
    result = cli.api.post("/images/prune", {"filters": filters or None}) or {}
    deleted = result.get("ImagesDeleted") or []
    lines = [f"{k}: {v}" for entry in deleted for k, v in entry.items() if v]
    report_prune(cli, "Deleted Images:", lines, result.get("SpaceReclaimed", 0))
    return 0
