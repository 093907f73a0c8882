"""The v2 devices controller: cgroup v2 has no devices.allow file; access is
decided by an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the
container's cgroup (what runc does too). We assemble that program from the
allow rules (``devicerules``): the first rule that matches allows, anything
else is denied.

The kernel calls the program with ``struct bpf_cgroup_dev_ctx``: a u32
``access_type`` (access bits << 16 | device type), u32 ``major``, u32 ``minor``.
"""

import ctypes
import os
import platform
import struct

from pydocker.drivers.exec.cgroups import devicerules

_SYS_BPF = {"x86_64": 321, "aarch64": 280}
_BPF_PROG_LOAD = 5
_BPF_PROG_ATTACH = 8
_BPF_PROG_TYPE_CGROUP_DEVICE = 15
_BPF_CGROUP_DEVICE = 6
_BPF_F_ALLOW_MULTI = 2

_TYPES = {"b": 1, "c": 2}                       # BPF_DEVCG_DEV_BLOCK / _CHAR
_ACCESS = {"m": 1, "r": 2, "w": 4}              # BPF_DEVCG_ACC_MKNOD / _READ / _WRITE

# Instruction opcodes (class | operation | source).
_LDX_W = 0x61           # BPF_LDX | BPF_MEM | BPF_W
_AND_K = 0x57           # BPF_ALU64 | BPF_AND | BPF_K
_RSH_K = 0x77           # BPF_ALU64 | BPF_RSH | BPF_K
_MOV_K = 0xb7           # BPF_ALU64 | BPF_MOV | BPF_K
_MOV_X = 0xbf           # BPF_ALU64 | BPF_MOV | BPF_X
_JNE_K = 0x55           # BPF_JMP | BPF_JNE | BPF_K
_JNE_X = 0x5d           # BPF_JMP | BPF_JNE | BPF_X
_EXIT = 0x95


def _insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def assemble(rules):
    """The program's bytes for allow ``rules`` ("c 1:3 rwm" strings).

    Registers: r2 device type, r3 requested access, r4 major, r5 minor; each
    rule is a block of checks that jump past the block on a mismatch."""
    program = [
        _insn(_LDX_W, dst=2, src=1, off=0), _insn(_AND_K, dst=2, imm=0xFFFF),
        _insn(_LDX_W, dst=3, src=1, off=0), _insn(_RSH_K, dst=3, imm=16),
        _insn(_LDX_W, dst=4, src=1, off=4),
        _insn(_LDX_W, dst=5, src=1, off=8),
    ]
    for rule in rules:
        kind, major, minor, access = devicerules.parse(rule)
        checks = []
        if kind != "a":
            checks.append([(_JNE_K, 2, 0, _TYPES[kind])])
        allowed = sum(_ACCESS[a] for a in set(access))
        if allowed != 7:
            # The request must be a subset of ``allowed``: (r3 & allowed) == r3.
            checks.append([(_MOV_X, 1, 3, 0), (_AND_K, 1, 0, allowed), (_JNE_X, 1, 3, None)])
        if major is not None:
            checks.append([(_JNE_K, 4, 0, major)])
        if minor is not None:
            checks.append([(_JNE_K, 5, 0, minor)])
        block = [step for check in checks for step in check] + [(_MOV_K, 0, 0, 1), (_EXIT, 0, 0, 0)]
        for index, (code, dst, src, imm) in enumerate(block):
            skip = len(block) - index - 1       # to the first instruction after the block
            if code == _JNE_K:
                program.append(_insn(code, dst=dst, off=skip, imm=imm))
            elif code == _JNE_X:
                program.append(_insn(code, dst=dst, src=src, off=skip))
            else:
                program.append(_insn(code, dst=dst, src=src, imm=imm))
    program += [_insn(_MOV_K, dst=0, imm=0), _insn(_EXIT)]
    return b"".join(program)


def attach(cgroup_dir, rules):
    """Load the program for ``rules`` and attach it to ``cgroup_dir``."""
    code = assemble(rules)
    try:
        prog_fd = _load(code, log_size=0)
    except OSError:
        prog_fd = _load(code, log_size=1 << 16)     # again, for the verifier's reasons
    try:
        cgroup_fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            _bpf(_BPF_PROG_ATTACH, struct.pack("<IIII", cgroup_fd, prog_fd, _BPF_CGROUP_DEVICE,
                                               _BPF_F_ALLOW_MULTI).ljust(128, b"\0"),
                 "attaching the device filter")
        finally:
            os.close(cgroup_fd)
    finally:
        os.close(prog_fd)       # the attachment keeps the program alive


def _load(code, log_size):
    insns = ctypes.create_string_buffer(code, len(code))
    license_ = ctypes.create_string_buffer(b"Apache-2.0")
    log = ctypes.create_string_buffer(log_size) if log_size else None
    load = struct.pack("<IIQQIIQ", _BPF_PROG_TYPE_CGROUP_DEVICE, len(code) // 8,
                       ctypes.addressof(insns), ctypes.addressof(license_), 1 if log else 0,
                       log_size, ctypes.addressof(log) if log else 0).ljust(128, b"\0")
    return _bpf(_BPF_PROG_LOAD, load, "loading the device filter", log)


def _bpf(command, attr, what, log=None):
    number = _SYS_BPF.get(platform.machine())
    if number is None:
        raise OSError("the bpf syscall number for %s is not known" % platform.machine())
    buffer = ctypes.create_string_buffer(attr, len(attr))
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(ctypes.c_long(number), ctypes.c_int(command), buffer,
                          ctypes.c_uint(len(attr)))
    if result < 0:
        err = ctypes.get_errno()
        detail = (": " + log.value.decode(errors="replace").strip()) if log is not None and log.value else ""
        raise OSError(err, "%s: %s%s" % (what, os.strerror(err), detail))
    return result
