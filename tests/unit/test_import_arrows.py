"""The layers import only downwards: a walk over every module's imports (ast, so
imports inside functions count too) fails on an arrow that runs back up."""

import ast
import pathlib

import pytest

import pydocker

ROOT = pathlib.Path(pydocker.__file__).parent

# (importing package, imported package, why the arrow is wrong)
FORBIDDEN = [
    ("pydocker.runtime", "pydocker.jobs", "the runtime serves the jobs, not the other way round"),
    ("pydocker.store", "pydocker.registry", "records do not depend on the registry client"),
    ("pydocker.drivers", "pydocker.runtime", "drivers know nothing of the runtime"),
    ("pydocker.drivers", "pydocker.jobs", "drivers know nothing of jobs"),
    ("pydocker.drivers", "pydocker.engine", "drivers raise errdefs kinds, they do not need the engine"),
    ("pydocker.archive", "pydocker.engine", "the archive library does not need the engine"),
    ("pydocker.jobs", "pydocker.drivers.exec", "jobs use the exec driver through its interface only"),
    ("pydocker.drivers.exec.lxc", "pydocker.drivers.exec.native",
     "what both exec drivers use lives in drivers/exec, not inside one driver"),
    ("pydocker.drivers.exec.native", "pydocker.drivers.exec.lxc",
     "what both exec drivers use lives in drivers/exec, not inside one driver"),
    ("pydocker.drivers.exec.common", "pydocker.drivers.exec.native",
     "the drivers' shared code does not depend on one of them"),
    ("pydocker.volumes", "pydocker.drivers.exec", "volumes know nothing of the exec drivers"),
    ("pydocker.images", "pydocker.store", "the images library is plain functions on bytes and files"),
    ("pydocker.images", "twisted.internet.threads", "the images library knows nothing of threads"),
]
ALLOWED = {
    ("pydocker.jobs", "pydocker.drivers.exec.interfaces"),
    # The graph service of the daemon's tree: it owns the layer records.
    ("pydocker.images.layerstore", "pydocker.store"),
}


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path):
    """Every module ``path`` imports; ``from a import b`` counts as both a and a.b."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def inside(name, package):
    return name == package or name.startswith(package + ".")


def arrows():
    for path in sorted(ROOT.rglob("*.py")):
        source = module_name(path)
        for target in imports_of(path):
            yield source, target


def violations(edges):
    bad = []
    for source, target in edges:
        for importer, imported, why in FORBIDDEN:
            if inside(source, importer) and inside(target, imported) \
                    and not any(inside(source, a) and inside(target, b) for a, b in ALLOWED):
                bad.append(f"{source} imports {target}: {why}")
    return bad


def test_no_import_runs_back_up():
    assert violations(arrows()) == []


@pytest.mark.parametrize("source, target", [
    ("pydocker.runtime.monitor", "pydocker.jobs.archives"),
    ("pydocker.store.images", "pydocker.registry.reference"),
    ("pydocker.drivers.network.bridge", "pydocker.engine.job"),
    ("pydocker.jobs.execs", "pydocker.drivers.exec.spec"),
    ("pydocker.jobs.system", "pydocker.drivers.exec.cgroups"),
    ("pydocker.drivers.exec.lxc.seccomp", "pydocker.drivers.exec.native.seccomp"),
    ("pydocker.drivers.exec.native.driver", "pydocker.drivers.exec.lxc.config"),
    ("pydocker.drivers.exec.common", "pydocker.drivers.exec.native.validate"),
    ("pydocker.volumes.propagation", "pydocker.drivers.exec.native.linux"),
    ("pydocker.images.pulltarget", "pydocker.store.images"),
    ("pydocker.images.pulltarget", "twisted.internet.threads"),
])
def test_the_check_catches_each_kind_of_arrow(source, target):
    assert violations([(source, target)])


def test_relative_and_from_imports_are_resolved(tmp_path, monkeypatch):
    package = tmp_path / "pydocker" / "jobs"
    package.mkdir(parents=True)
    module = package / "x.py"
    module.write_text("from ..drivers.exec import cgroups\n"
                      "def later():\n    import pydocker.runtime.spec\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path / "pydocker")
    found = imports_of(module)
    assert "pydocker.drivers.exec.cgroups" in found and "pydocker.runtime.spec" in found
