"""A pull target for the registry tests that keeps layers as tar files."""

import os
import shutil
import tempfile

from zope.interface import implementer

from pydocker.registry import IPullTarget


@implementer(IPullTarget)
class TarStoreTarget:
    """Keeps each applied layer as ``<dir>/<diff_id hex>.tar``. It follows the staging
    contract: write into a staging file, keep it only after the stream's verified EOF."""

    def __init__(self, directory):
        self.directory = directory
        self.images = set()
        self.applied = []
        os.makedirs(directory, exist_ok=True)

    def path_of(self, diff_id):
        return os.path.join(self.directory, diff_id.split(":")[1] + ".tar")

    def has_image(self, image_id):
        return image_id in self.images

    def has_layer(self, layer):
        return os.path.exists(self.path_of(layer.diff_id))

    def apply_layer(self, layer, stream):
        fd, staging = tempfile.mkstemp(dir=self.directory, prefix="staging-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out)
            os.rename(staging, self.path_of(layer.diff_id))
        except BaseException:
            os.unlink(staging)
            raise
        self.applied.append(layer)

    def leftovers(self):
        return [name for name in os.listdir(self.directory) if name.startswith("staging-")]
