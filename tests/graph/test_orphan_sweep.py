"""The daemon-start orphan sweep: driver layers no record knows are removed, known ones kept.

Runs ``pydocker.jobs.archives.sweep_orphan_layers`` on a real engine (reactor, worker pool,
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
from twisted.python.threadpool import ThreadPool
from pydocker.drivers.graph.vfs import VFSDriver
from pydocker.engine.job import Engine
from pydocker.jobs.archives import sweep_orphan_layers
from pydocker.store.db import Database

def main(reactor, root):
    db = Database(os.path.join(root, "pydocker.db"), reactor)
    db.start()
    pool = ThreadPool(minthreads=0, maxthreads=2)
    pool.start()
    engine = Engine(reactor, pool, {"db": db, "graph": VFSDriver(os.path.join(root, "vfs"), {})})
    d = sweep_orphan_layers(engine)
    d.addCallback(lambda removed: print(json.dumps(sorted(removed))))
    d.addBoth(lambda result: (pool.stop(), db.stop(), result)[2])
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
