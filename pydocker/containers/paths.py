"""Where a container's files live under the data root (its hosts, resolv.conf, log)."""

import os


def container_dir(data_root, container_id):
    return os.path.join(data_root, "containers", container_id)
