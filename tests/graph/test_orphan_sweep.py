"""The daemon-start orphan sweep: driver layers no record knows are removed, known ones kept.

Runs ``LayerStore.sweep_orphans`` on real parts (reactor, worker pool,
SQLite store, vfs driver) in a child process, against a data root a real daemon made.
"""

import json
import os
import subprocess
import sys

import pytest

from pydocker.drivers.graph.vfs import VFSDriver
from pydocker.testing.daemon import DaemonProcess

SWEEP = r"""
import json, os, sys
from twisted.internet import task
from pydocker.drivers.graph.vfs import VFSDriver
from pydocker.engine.events import EventBus
from pydocker.engine.workers import WorkerPool
from pydocker.images.layerstore import LayerStore
from pydocker.store.db import Database

def main(reactor, root):
    db = Database(os.path.join(root, "pydocker.db"), reactor)
    db.startService()
    pool = WorkerPool(reactor, 2)
    pool.startService()
    layers = LayerStore(pool, db, VFSDriver(os.path.join(root, "vfs"), {}), EventBus(), root)
    d = layers.sweep_orphans()
    d.addCallback(lambda removed: print(json.dumps(sorted(removed))))
    d.addBoth(lambda result: (pool.stopService(), db.stopService(), result)[2])
    return d

task.react(main, [sys.argv[1]])
"""


@pytest.mark.kernel
def test_sweep_removes_only_unknown_layers(tmp_path):
    d = DaemonProcess(tmp_path / "daemon", ["-s", "vfs"]).start()
    try:
        d.import_busybox()
        d.client("create", "--name", "keeper", "busybox", "true")
    finally:
        assert d.stop() == 0, d.log()
    driver = VFSDriver(os.path.join(d.root, "vfs"), {})
    known = set(driver.ids())
    assert len(known) == 3  # the image's layer and the container's init and rw layers
    driver.create("orphan-base")
    driver.create("orphan-child", "orphan-base")
    proc = subprocess.run([sys.executable, "-c", SWEEP, d.root], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["orphan-base", "orphan-child"]
    assert set(driver.ids()) == known
