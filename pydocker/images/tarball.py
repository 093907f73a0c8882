"""Image tarballs: what ``docker save`` writes and ``docker load`` reads.

(Over 400 lines: writing and reading share the two layouts' names and checks, so a
saved tarball and a loaded one are judged by the same code.)

One tarball carries two layouts at once, as Docker 25 writes it, so that both
old and new loaders (and OCI tools) accept it::

    blobs/sha256/<hex>   layer tars (uncompressed), image configs, OCI manifests
    manifest.json        [{"Config": "blobs/sha256/..", "RepoTags": [..], "Layers": [..]}]
    repositories         {"busybox": {"latest": "<top layer hex>"}}  (legacy)
    oci-layout           {"imageLayoutVersion": "1.0.0"}
    index.json           an OCI index; each tag is one manifest descriptor annotated
                         with ``io.containerd.image.name`` and ``org.opencontainers.image.ref.name``

Reading accepts a docker-save tarball (``manifest.json``, whatever paths it
names: Docker 20.10's ``<id>/layer.tar`` or Docker 25's blobs) or a plain OCI
image layout (``index.json``, nested indexes included).  The tarball is never
extracted: it is indexed once and members are read in place, so a name in it
cannot reach the filesystem.  Blocking code for worker threads; no Twisted.
"""

import hashlib
import io
import json
import os
import platform
import posixpath
import tarfile
from dataclasses import dataclass, field

from pydocker.errdefs import InvalidParameter
from pydocker.reference import parse_reference

MANIFEST_FILE = "manifest.json"
REPOSITORIES_FILE = "repositories"
OCI_LAYOUT_FILE = "oci-layout"
OCI_INDEX_FILE = "index.json"
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}
_METADATA_LIMIT = 16 << 20  # manifests, configs and indexes are small; refuse a huge one
_CHUNK = 1 << 20


# -- the images in a tarball --------------------------------------------------------------

@dataclass
class SavedLayer:
    """A layer to write: its diff ID and a function giving (size, readable stream) of its exact tar."""

    diff_id: str
    open: object


@dataclass
class SavedImage:
    config: bytes  # the exact bytes the image ID is the hash of
    layers: list
    refs: list = field(default_factory=list)  # full references with a tag: docker.io/library/busybox:latest

    @property
    def id(self):
        return "sha256:" + hashlib.sha256(self.config).hexdigest()


@dataclass
class LoadedLayer:
    """A layer found in a tarball: where its blob is and the diff ID its config promises."""

    path: str
    diff_id: str


@dataclass
class LoadedImage:
    config: bytes
    layers: list
    refs: list = field(default_factory=list)  # as written in the tarball (familiar or full)

    @property
    def id(self):
        return "sha256:" + hashlib.sha256(self.config).hexdigest()


# -- writing ------------------------------------------------------------------------------

def write_tarball(images, out):
    """Write ``images`` (SavedImage) as one tarball with both layouts to the binary stream ``out``."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_CHUNK) as tar:
        _add_dir(tar, "blobs")
        _add_dir(tar, "blobs/sha256")
        written, layer_sizes = set(), {}
        manifest, repositories, descriptors = [], {}, []
        for image in images:
            for layer in image.layers:
                if layer.diff_id not in written:
                    size, stream = layer.open()
                    with stream:
                        _add_stream(tar, _blob_path(layer.diff_id), size, stream)
                    written.add(layer.diff_id)
                    layer_sizes[layer.diff_id] = size
            _add_blob(tar, image.config, written)
            oci_manifest = _oci_manifest(image, layer_sizes)
            manifest_digest = _add_blob(tar, oci_manifest, written)
            descriptors.extend(_index_entries(image, manifest_digest, len(oci_manifest)))
            manifest.append(_manifest_item(image))
            top = image.layers[-1].diff_id.split(":", 1)[1] if image.layers else ""
            for full in image.refs:
                ref = parse_reference(full)
                repositories.setdefault(ref.familiar_name, {})[ref.tag] = top
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": descriptors}
        _add_bytes(tar, OCI_INDEX_FILE, _json(index))
        _add_bytes(tar, MANIFEST_FILE, _json(manifest))
        _add_bytes(tar, OCI_LAYOUT_FILE, OCI_LAYOUT)
        if repositories:
            _add_bytes(tar, REPOSITORIES_FILE, _json(repositories))


def _oci_manifest(image, layer_sizes):
    config = json.loads(image.config)
    return _json({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": image.id, "size": len(image.config),
                   "platform": _platform_of(config)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer.diff_id, "size": layer_sizes[layer.diff_id]}
                   for layer in image.layers],
    })


def _index_entries(image, digest, size):
    base = {"mediaType": MEDIA_MANIFEST, "digest": digest, "size": size,
            "platform": _platform_of(json.loads(image.config))}
    if not image.refs:
        return [base]  # saved by ID: findable by OCI tools, nameless as Docker writes it
    entries = []
    for full in image.refs:
        ref = parse_reference(full)
        entries.append(dict(base, annotations={ANNOTATION_IMAGE_NAME: str(ref), ANNOTATION_REF_NAME: ref.tag}))
    return entries


def _manifest_item(image):
    return {
        "Config": _blob_path(image.id),
        "RepoTags": [parse_reference(full).familiar() for full in image.refs] or None,
        "Layers": [_blob_path(layer.diff_id) for layer in image.layers],
    }


def _platform_of(config):
    platform_doc = {"architecture": config.get("architecture", ""), "os": config.get("os", "")}
    if config.get("variant"):
        platform_doc["variant"] = config["variant"]
    return platform_doc


def _blob_path(digest):
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _json(value):
    return json.dumps(value, separators=(",", ":")).encode()


def _add_dir(tar, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def _add_bytes(tar, name, data):
    _add_stream(tar, name, len(data), io.BytesIO(data))


def _add_blob(tar, data, written):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if digest not in written:
        _add_bytes(tar, _blob_path(digest), data)
        written.add(digest)
    return digest


def _add_stream(tar, name, size, stream):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    tar.addfile(info, stream)


# -- reading ------------------------------------------------------------------------------

class Bundle:
    """A tarball indexed in place: member name → (offset, size) in a seekable regular file.

    A symbolic or hard link to another member reads as that member: ``docker save`` writes an
    identical layer once and links the other images' ``layer.tar`` to it."""

    MAX_LINK_HOPS = 8

    def __init__(self, fileobj):
        self._file = fileobj
        self._fd = fileobj.fileno()
        self._members = {}
        links = {}
        try:
            with tarfile.open(fileobj=fileobj, mode="r:") as tar:
                for member in tar:
                    name = _clean(member.name)
                    if name is None:
                        continue
                    if member.isreg():
                        self._members[name] = (member.offset_data, member.size)
                    elif member.issym():
                        links[name] = _clean(posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname)))
                    elif member.islnk():
                        links[name] = _clean(member.linkname)
        except (tarfile.TarError, EOFError) as e:
            raise InvalidParameter(f"the image tarball is not a valid tar archive: {e}") from None
        for name, target in links.items():
            for _ in range(self.MAX_LINK_HOPS):
                if target in self._members or target not in links:
                    break
                target = links[target]
            if target in self._members:
                self._members[name] = self._members[target]

    def __contains__(self, name):
        return _clean(name) in self._members

    def size(self, name):
        return self._lookup(name)[1]

    def open(self, name):
        """A reader of member ``name``'s content."""
        offset, size = self._lookup(name)
        return _Section(self._fd, offset, size)

    def read(self, name, limit=_METADATA_LIMIT):
        offset, size = self._lookup(name)
        if size > limit:
            raise InvalidParameter(f"{name} in the image tarball is too large ({size} bytes)")
        data = os.pread(self._fd, size, offset)
        if len(data) != size:
            raise InvalidParameter(f"the image tarball is truncated inside {name}")
        return data

    def read_json(self, name):
        try:
            return json.loads(self.read(name))
        except ValueError as e:
            raise InvalidParameter(f"{name} in the image tarball is not valid JSON: {e}") from None

    def read_blob(self, digest):
        """A small blob (manifest, config, index), checked against its digest."""
        data = self.read(_blob_path(_checked_digest(digest)))
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise InvalidParameter(f"blob {digest} in the image tarball does not match its digest")
        return data

    def _lookup(self, name):
        found = self._members.get(_clean(name))
        if found is None:
            raise InvalidParameter(f"the image tarball has no file {name!r}")
        return found


def _clean(name):
    """A member name in canonical form, or None for one that climbs out ('..')."""
    if not isinstance(name, str) or not name:
        return None
    normal = posixpath.normpath("/" + name).lstrip("/")
    if ".." in name.split("/") or not normal:
        return None
    return normal


def _checked_digest(digest):
    algorithm, _, hexpart = (digest or "").partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise InvalidParameter(f"unsupported or malformed digest {digest!r} in the image tarball")
    return digest


class _Section:
    """A file-like reader of ``size`` bytes at ``offset`` in ``fd`` (pread: no shared position)."""

    def __init__(self, fd, offset, size):
        self._fd = fd
        self._pos = offset
        self._end = offset + size

    def readable(self):
        return True

    def read(self, size=-1):
        left = self._end - self._pos
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        data = os.pread(self._fd, size, self._pos)
        if not data:
            raise InvalidParameter("the image tarball is truncated")
        self._pos += len(data)
        return data

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_images(bundle):
    """Every image the tarball holds, checked for consistency before anything is stored."""
    if MANIFEST_FILE in bundle:
        return _from_docker_manifest(bundle)
    if OCI_INDEX_FILE in bundle:
        return _from_oci_index(bundle)
    if REPOSITORIES_FILE in bundle:
        raise InvalidParameter("this tarball is in the pre-1.10 Docker format (no manifest.json), "
                               "which is not supported")
    raise InvalidParameter("not an image tarball: it has neither manifest.json nor index.json")


def _from_docker_manifest(bundle):
    items = bundle.read_json(MANIFEST_FILE)
    if not isinstance(items, list):
        raise InvalidParameter("manifest.json in the image tarball is not a list")
    images = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise InvalidParameter("manifest.json: an entry has no Config")
        config = bundle.read(item["Config"])
        paths = item.get("Layers") or []
        refs = item.get("RepoTags") or []
        if not all(isinstance(p, str) for p in paths) or not all(isinstance(r, str) for r in refs):
            raise InvalidParameter("manifest.json: Layers and RepoTags must be lists of strings")
        images.append(_image(bundle, config, paths, refs))
    return images


def _from_oci_index(bundle):
    index = bundle.read_json(OCI_INDEX_FILE)
    images = {}
    for descriptor, names in _manifests_of(bundle, index, []):
        manifest = _parse_json(bundle.read_blob(descriptor["digest"]), descriptor["digest"])
        config_digest = (manifest.get("config") or {}).get("digest")
        config = bundle.read_blob(_checked_digest(config_digest))
        paths = [_blob_path(_checked_digest(layer.get("digest"))) for layer in manifest.get("layers") or []]
        image = _image(bundle, config, paths, [])
        image = images.setdefault(image.id, image)
        image.refs.extend(n for n in names if n not in image.refs)
    return list(images.values())


def _manifests_of(bundle, index, names):
    """(manifest descriptor, names) for this host's platform, following nested indexes."""
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        raise InvalidParameter("index.json in the image tarball has no manifests list")
    for descriptor in manifests:
        if not isinstance(descriptor, dict):
            raise InvalidParameter("index.json: a manifest descriptor is not an object")
        media = descriptor.get("mediaType")
        here = names + _names_of(descriptor.get("annotations") or {})
        if media in (MEDIA_INDEX, DOCKER_MANIFEST_LIST):
            nested = _parse_json(bundle.read_blob(_checked_digest(descriptor.get("digest"))), descriptor["digest"])
            yield from _manifests_of(bundle, nested, here)
        elif media in (MEDIA_MANIFEST, DOCKER_MANIFEST) and _for_this_host(descriptor.get("platform")):
            _checked_digest(descriptor.get("digest"))
            yield descriptor, here


def _names_of(annotations):
    """An image name from OCI annotations: containerd's full name, else a ref name that is a reference."""
    for key in (ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME):
        value = annotations.get(key)
        if value and ("/" in value or ":" in value):
            try:
                return [str(parse_reference(value))]
            except InvalidParameter:
                continue
    return []


def _for_this_host(platform_doc):
    if not platform_doc:
        return True
    arch = _GO_ARCH.get(platform.machine(), platform.machine())
    return platform_doc.get("os", "linux") == "linux" and platform_doc.get("architecture", arch) == arch


def _parse_json(data, what):
    try:
        return json.loads(data)
    except ValueError as e:
        raise InvalidParameter(f"{what} in the image tarball is not valid JSON: {e}") from None


def _image(bundle, config_bytes, paths, refs):
    config = _parse_json(config_bytes, "an image config")
    diff_ids = ((config.get("rootfs") or {}).get("diff_ids") or []) if isinstance(config, dict) else None
    if diff_ids is None or not all(isinstance(d, str) for d in diff_ids):
        raise InvalidParameter("an image config in the tarball has no valid rootfs.diff_ids")
    if len(diff_ids) != len(paths):
        raise InvalidParameter(f"an image in the tarball lists {len(paths)} layers but its config has "
                               f"{len(diff_ids)} diff IDs")
    for path in paths:
        if path not in bundle:
            raise InvalidParameter(f"the image tarball has no layer file {path!r}")
    for ref in refs:
        parse_reference(ref)  # a bad tag is refused before anything is stored
    return LoadedImage(config_bytes, [LoadedLayer(p, _checked_digest(d)) for p, d in zip(paths, diff_ids)],
                       list(refs))
