"""Seccomp profiles in LXC's own text format (``lxc.seccomp.profile``, version 2).

The rules come from ``drivers.exec.seccomp.profile`` (our default policy or a Docker
JSON profile), as the native driver's do, so both enforce the same policy; this module
only writes them the way LXC's parser reads them. What that format cannot say (the
``log`` and ``trace`` actions) is refused, not weakened.
"""

from pydocker.drivers.exec.seccomp import profile as policies
from pydocker.errdefs import InvalidParameter

_OPS = {"ne": "SCMP_CMP_NE", "lt": "SCMP_CMP_LT", "le": "SCMP_CMP_LE", "eq": "SCMP_CMP_EQ",
        "ge": "SCMP_CMP_GE", "gt": "SCMP_CMP_GT", "masked_eq": "SCMP_CMP_MASKED_EQ"}


def _action(name, errno):
    if name == "allow":
        return "allow"
    if name == "errno":
        return "errno %d" % errno
    if name in ("kill", "kill_thread", "kill_process"):
        return "kill"
    if name == "trap":
        return "trap"
    raise InvalidParameter("the lxc exec driver cannot apply the seccomp action %r "
                           "(LXC supports allow, errno, kill and trap)" % name)


def _condition(arg, op, value, value_two):
    """LXC reads ``[index,value,op,mask]``; for a masked comparison Docker's
    ``value`` is the mask and ``valueTwo`` the expected value."""
    if op not in _OPS:
        raise InvalidParameter("unknown seccomp comparison %r" % op)
    if op == "masked_eq":
        return "[%d,%d,%s,%d]" % (arg, value_two, _OPS[op], value)
    return "[%d,%d,%s]" % (arg, value, _OPS[op])


def profile_text(profile, caps):
    """The LXC profile for ``profile`` (None = our default, else a Docker JSON
    dict) given the container's capabilities; None when unconfined."""
    try:
        policy = policies.policy(profile, caps)
    except (policies.ProfileError, KeyError, TypeError) as e:
        raise InvalidParameter("invalid seccomp profile: %s" % e) from None
    if policy is None:
        return None
    default, default_errno, rules = policy
    lines = ["2", "allowlist " + _action(default, default_errno)]
    for names, action, errno, conditions in rules:
        suffix = " " + _action(action, errno)
        suffix += "".join(" " + _condition(*c) for c in conditions)
        lines += [name + suffix for name in names]
    return "\n".join(lines) + "\n"
