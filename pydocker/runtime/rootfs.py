"""A container's layers: the init layer with Docker's placeholders, and the read-write layer.

Blocking code for worker threads. Layer ids: ``<id>-init`` and ``<id>``.
"""

import os

from pydocker.userns import ownership

INIT_DIRS = ("dev", "dev/pts", "dev/shm", "proc", "sys", "etc")
INIT_FILES = ("etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv", "dev/console")


def init_layer_id(container_id):
    return f"{container_id}-init"


def create_layers(driver, container_id, image_cache_id, idmap=None):
    """Make the init and read-write layers; nothing is left behind on failure.
    With ``idmap`` (--userns-remap) the init layer's entries belong to the remapped root."""
    init_id = init_layer_id(container_id)
    driver.create(init_id, image_cache_id)
    try:
        path = driver.get(init_id)
        try:
            populate_init_layer(path, idmap)
        finally:
            driver.put(init_id)
        driver.create_rw(container_id, init_id)
    except BaseException:
        remove_layers(driver, container_id)
        raise


def populate_init_layer(root, idmap=None):
    """Mount points and files the container's mounts will cover, made ahead so the
    image's own entries (or their absence) never decide where a bind lands."""
    made = []
    for rel in INIT_DIRS:
        path = os.path.join(root, rel)
        if os.path.islink(path):
            os.unlink(path)
        if not os.path.isdir(path):
            os.makedirs(path, mode=0o755)
            made.append(path)
    for rel in INIT_FILES:
        path = os.path.join(root, rel)
        if os.path.islink(path) or os.path.isdir(path):
            continue
        if not os.path.exists(path):
            made.append(path)
        with open(path, "a"):
            pass
    mtab = os.path.join(root, "etc", "mtab")
    if not os.path.lexists(mtab):
        os.symlink("/proc/mounts", mtab)
        made.append(mtab)
    for path in made:
        ownership.owned_by_root(path, idmap)


def remove_layers(driver, container_id):
    for layer in (container_id, init_layer_id(container_id)):
        if driver.exists(layer):
            driver.remove(layer)
