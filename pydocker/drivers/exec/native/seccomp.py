"""Compile seccomp policies to BPF through libseccomp (ctypes).

The policy (Docker's default or a Docker-format JSON profile) comes as rules
``(names, action, errno, conditions)`` from ``drivers.exec.seccomp.profile``. The
driver compiles each (profile, capabilities) pair once, in the daemon, and hands the
BPF program to the launcher (``init``), which only installs it
(``linux.install_seccomp_filter``): no libseccomp work on each start.
"""

import ctypes
import json
import os
import tempfile

from pydocker.drivers.exec.seccomp import profile as policies

_ALLOW = 0x7FFF0000
_ACTIONS = {
    "kill": 0x00000000, "kill_thread": 0x00000000, "kill_process": 0x80000000,
    "trap": 0x00030000, "log": 0x7FFC0000, "allow": _ALLOW,
}
_OPS = {"ne": 1, "lt": 2, "le": 3, "eq": 4, "ge": 5, "gt": 6, "masked_eq": 7}
_ARCHES = {  # Docker's arch names -> audit arch tokens
    "SCMP_ARCH_X86_64": 0xC000003E, "SCMP_ARCH_X86": 0x40000003, "SCMP_ARCH_X32": 0x4000003E,
}
_NR_SCMP_ERROR = -1


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _action(name, errno):
    if name == "errno":
        return 0x00050000 | (errno & 0xFFFF)
    if name == "trace":
        return 0x7FF00000 | (errno & 0xFFFF)
    try:
        return _ACTIONS[name]
    except KeyError:
        raise policies.ProfileError("unknown seccomp action %r" % name) from None


_lib = None
_compiled = {}
LIBRARY = "libseccomp.so.2"


def available():
    try:
        _library()
    except OSError:
        return False
    return True


def program_for(profile, caps):
    """``compile_bpf`` with a cache: containers mostly share a few profiles."""
    key = (json.dumps(profile, sort_keys=True), tuple(sorted(caps)))
    if key not in _compiled:
        _compiled[key] = compile_bpf(profile, caps)
    return _compiled[key]


def _library():
    global _lib
    if _lib is None:
        try:
            lib = ctypes.CDLL(LIBRARY, use_errno=True)
        except OSError as e:
            raise OSError("seccomp is not available: %s" % e) from None
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                               ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
        lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib


def compile_bpf(profile, caps):
    """The BPF program (bytes of struct sock_filter) for ``profile`` (None =
    Docker's default, or a Docker-format dict) and the capabilities ``caps``;
    None for "unconfined"."""
    policy = policies.policy(profile, caps)
    if policy is None:
        return None
    default, default_errno, rules = policy
    lib = _library()
    default_action = _action(default, default_errno)
    ctx = lib.seccomp_init(default_action)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        for token in (_ARCHES["SCMP_ARCH_X86"], _ARCHES["SCMP_ARCH_X32"]):
            lib.seccomp_arch_add(ctx, token)   # -EEXIST is fine
        for names, action_name, errno, conditions in rules:
            action = _action(action_name, errno)
            if action == default_action:
                continue
            cmps = (_ArgCmp * max(len(conditions), 1))()
            for i, (index, op, value, value2) in enumerate(conditions):
                if op not in _OPS:
                    raise policies.ProfileError("unknown seccomp operator %r" % op)
                cmps[i] = _ArgCmp(index, _OPS[op], value, value2)
            for name in names:
                number = lib.seccomp_syscall_resolve_name(name.encode())
                if number == _NR_SCMP_ERROR:
                    continue        # a name libseccomp does not know
                rc = lib.seccomp_rule_add_array(ctx, action, number, len(conditions), cmps)
                if rc < 0:
                    raise OSError(-rc, "seccomp rule for %s: %s" % (name, os.strerror(-rc)))
        with tempfile.TemporaryFile() as out:
            rc = lib.seccomp_export_bpf(ctx, out.fileno())
            if rc < 0:
                raise OSError(-rc, "seccomp_export_bpf: %s" % os.strerror(-rc))
            out.seek(0)
            return out.read()
    finally:
        lib.seccomp_release(ctx)
