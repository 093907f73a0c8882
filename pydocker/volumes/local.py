"""The ``local`` volume driver: a directory under ``<data-root>/volumes/<name>/_data``,
or, with ``type``/``device``/``o`` options, a filesystem mounted there while in use
(``--opt type=tmpfs --opt device=tmpfs --opt o=size=100m``), as Docker's local driver."""

import os
import shutil
import subprocess

from zope.interface import implementer

from pydocker.errdefs import InvalidParameter, SystemError_
from pydocker.userns import ownership
from pydocker.volumes.interfaces import IVolumeDriver

OPTIONS = ("type", "device", "o")


@implementer(IVolumeDriver)
class LocalVolumeDriver:
    name = "local"

    def __init__(self, root, idmap=None):
        """``idmap``: with --userns-remap, a volume's directory belongs to the remapped root."""
        self.root = root
        self.idmap = idmap
        os.makedirs(root, mode=0o701, exist_ok=True)
        self._mounted = {}

    def path(self, name):
        return os.path.join(self.root, name, "_data")

    def create(self, name, options):
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise InvalidParameter(f"invalid option key: {unknown[0]!r}")
        if options and not options.get("type"):
            raise InvalidParameter("local volume options need 'type' (and 'device'), e.g. type=tmpfs device=tmpfs")
        path = self.path(name)
        if not os.path.isdir(path):
            os.makedirs(path, mode=0o755)
            ownership.owned_by_root(path, self.idmap)
        return path

    def remove(self, name):
        self.unmount(name)
        shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)

    def mount(self, name, options):
        path = self.path(name)
        if not options.get("type"):
            return path
        count = self._mounted.get(name, 0)
        if count == 0:
            command = ["mount", "-t", options["type"]]
            if options.get("o"):
                command += ["-o", options["o"]]
            command += [options.get("device") or options["type"], path]
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemError_(f"error while mounting volume '{name}': {proc.stderr.strip()}")
        self._mounted[name] = count + 1
        return path

    def unmount(self, name):
        count = self._mounted.get(name, 0)
        if count == 0:
            return
        if count == 1:
            subprocess.run(["umount", self.path(name)], capture_output=True)
            del self._mounted[name]
        else:
            self._mounted[name] = count - 1
