"""Which devices a container may use: Docker's default rules, the ``--device`` ones and
the ``--device-cgroup-rule`` ones, as ``"<c|b|a> <major|*>:<minor|*> <rwm>"`` strings
(the v1 devices.allow syntax, which the v2 eBPF filter is built from too)."""

import os
import re
import stat

# dockerd's accepted form of a HostConfig.DeviceCgroupRules item.
_RULE = re.compile(r"([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})")

# Docker's default device rules for a non-privileged container: mknod of any
# node, then the usual character devices (null, zero, full, tty, random,
# urandom, console, ptmx, the pts slaves, tun).
DEFAULT_RULES = (
    "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
)


def rules_for(devices, extra_rules):
    """The container's allow rules: the defaults, each ``--device``, then ``extra_rules``
    (HostConfig.DeviceCgroupRules, checked at create)."""
    rules = list(DEFAULT_RULES)
    for device in devices:
        st = os.stat(device.path_on_host)
        kind = "b" if stat.S_ISBLK(st.st_mode) else "c"
        rules.append("%s %d:%d %s" % (kind, os.major(st.st_rdev), os.minor(st.st_rdev),
                                      device.permissions))
    return rules + [check(rule) for rule in extra_rules]


def check(rule):
    """``rule`` if it has dockerd's form, else ValueError."""
    if _RULE.fullmatch(rule) is None:
        raise ValueError("invalid device cgroup rule format: '%s'" % rule)
    return rule


def parse(rule):
    """``"c 1:3 rwm"`` -> ("c", 1, 3, "rwm"); ``*`` becomes None."""
    kind, major, minor, access = _RULE.fullmatch(check(rule)).groups()
    return (kind, None if major == "*" else int(major), None if minor == "*" else int(minor),
            access)
