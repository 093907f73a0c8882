"""The registry package's front door for the jobs layer: one object holding the daemon's
registry settings, with pull, push and login. All methods block."""

from pydocker.registry.credentials import AuthConfig
from pydocker.registry.endpoints import (DEFAULT_CERTS_DIR, DEFAULT_INSECURE_CIDRS,
                                         RegistryConfig)
from pydocker.registry.login import login
from pydocker.registry.pull import DEFAULT_CONCURRENCY, Puller
from pydocker.registry.push import DEFAULT_CHUNK_SIZE, Pusher
from pydocker.reference import Reference, parse_reference
from pydocker.registry.search import DEFAULT_LIMIT, search


def _as_reference(reference):
    return reference if isinstance(reference, Reference) else parse_reference(reference)


class RegistryService:
    def __init__(self, insecure_registries=(), mirrors=(), certs_dir=DEFAULT_CERTS_DIR,
                 tmpdir=None, default_insecure_cidrs=DEFAULT_INSECURE_CIDRS):
        self.config = RegistryConfig(insecure_registries, mirrors, certs_dir,
                                     default_insecure_cidrs)
        self.tmpdir = tmpdir

    def pull(self, reference, target, auth=None, platform=None, progress=None,
             max_concurrent_downloads=DEFAULT_CONCURRENCY, **options):
        """Pull into an IPullTarget; see pydocker.registry.pull.Puller for ``options``."""
        puller = Puller(self.config, auth or AuthConfig(), progress, platform,
                        max_concurrent_downloads, self.tmpdir, **options)
        return puller.pull(_as_reference(reference), target)

    def push(self, reference, image, auth=None, progress=None, chunk_size=DEFAULT_CHUNK_SIZE,
             **options):
        """Push a PushImage; see pydocker.registry.push.Pusher for ``options``."""
        pusher = Pusher(self.config, auth or AuthConfig(), progress, chunk_size,
                        tmpdir=self.tmpdir, **options)
        return pusher.push(_as_reference(reference), image)

    def push_index(self, reference, entries, auth=None, oci=True):
        """Push a multi-platform index over (PushResult, Platform) pairs."""
        pusher = Pusher(self.config, auth or AuthConfig(), tmpdir=self.tmpdir)
        return pusher.push_index(_as_reference(reference), entries, oci)

    def list_tags(self, repository, auth=None):
        """The tags of a repository (``pull --all-tags``)."""
        return Puller(self.config, auth or AuthConfig()).list_tags(_as_reference(repository))

    def search(self, term, limit=DEFAULT_LIMIT, auth=None):
        """v1 index search; see pydocker.registry.search."""
        return search(self.config, term, limit, auth or AuthConfig())

    def login(self, auth):
        """The ``/auth`` check: a LoginResult or Unauthorized."""
        return login(self.config, auth)
