"""The start-up check for a stale install: a source tree's setup.cfg declaring drivers
that the installed entry points lack (an editable install made before setup.cfg changed).
Fake setup.cfg files stand in for a changed source tree; the installed metadata is this
checkout's real one."""

import pytest

from pydocker.drivers import plugins
from pydocker.errdefs import PrerequisiteMissing


def test_this_checkouts_install_is_up_to_date():
    plugins.check_installed()       # the real setup.cfg against the real metadata


def test_a_driver_setup_cfg_gained_after_the_install_stops_the_start(tmp_path):
    real = open(plugins.SOURCE_SETUP_CFG).read()
    changed = real.replace("pydocker.networkdrivers =\n",
                           "pydocker.networkdrivers =\n    macvlan = pydocker.drivers.network.macvlan:Driver\n")
    assert changed != real
    (tmp_path / "setup.cfg").write_text(changed)
    with pytest.raises(PrerequisiteMissing) as raised:
        plugins.check_installed(str(tmp_path / "setup.cfg"))
    message = str(raised.value)
    assert "pydocker.networkdrivers macvlan" in message
    assert "pip install -e %s" % tmp_path in message and "make venv" in message


def test_a_moved_driver_class_is_stale_too(tmp_path):
    real = open(plugins.SOURCE_SETUP_CFG).read()
    changed = real.replace("pydocker.drivers.network.host:HostDriver", "pydocker.drivers.network.host2:HostDriver")
    (tmp_path / "setup.cfg").write_text(changed)
    with pytest.raises(PrerequisiteMissing, match="pydocker.networkdrivers host"):
        plugins.check_installed(str(tmp_path / "setup.cfg"))


def test_an_installed_package_without_a_setup_cfg_is_not_checked(tmp_path):
    plugins.check_installed(str(tmp_path / "setup.cfg"))
