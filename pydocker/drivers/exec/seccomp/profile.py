"""Read a container's seccomp policy into rules ``(names, action, errno, conditions)``.

The policy is Docker's default (``default``) or a Docker-format JSON profile; actions
and comparison operators keep Docker's names without their ``SCMP_ACT_``/``SCMP_CMP_``
prefixes, lowercased. Both drivers write these rules their own way.
"""

import os

from pydocker.drivers.exec.seccomp import default

NATIVE_ARCH_NAMES = ("amd64", "x86_64", "x32", "x86")
EPERM = 1


class ProfileError(ValueError):
    """A seccomp profile that cannot be understood."""


def policy(profile, caps):
    """(default action, default errno, rules) for ``profile`` (None = Docker's default,
    else a Docker-format dict) given the capabilities ``caps``; None for "unconfined"."""
    if profile == "unconfined":
        return None
    if profile is None:
        return "errno", EPERM, default.rules(caps)
    return from_docker_json(profile, caps)


def from_docker_json(profile, caps):
    """(default action, default errno, rules) from a Docker-format profile dict."""
    def short(value, prefix):
        return str(value).upper().replace(prefix, "", 1).lower()

    if not isinstance(profile, dict) or "defaultAction" not in profile:
        raise ProfileError("seccomp profile has no defaultAction")
    default_errno = profile.get("defaultErrnoRet") or EPERM
    rules = []
    for entry in profile.get("syscalls") or []:
        names = entry.get("names") or ([entry["name"]] if entry.get("name") else [])
        if not _applies(entry.get("includes") or {}, entry.get("excludes") or {}, caps):
            continue
        conditions = [(a["index"], short(a["op"], "SCMP_CMP_"), a.get("value", 0),
                       a.get("valueTwo", 0)) for a in entry.get("args") or []]
        rules.append((names, short(entry["action"], "SCMP_ACT_"),
                      entry.get("errnoRet") or EPERM, conditions))
    return short(profile["defaultAction"], "SCMP_ACT_"), default_errno, rules


def _applies(includes, excludes, caps):
    def caps_of(section):
        return {c.upper().replace("CAP_", "", 1) for c in section.get("caps") or []}

    if not caps_of(includes) <= set(caps):
        return False
    if caps_of(excludes) & set(caps):
        return False
    if includes.get("arches") and not set(includes["arches"]) & set(NATIVE_ARCH_NAMES):
        return False
    if excludes.get("arches") and set(excludes["arches"]) & set(NATIVE_ARCH_NAMES):
        return False
    min_kernel = includes.get("minKernel")
    if min_kernel:
        running = tuple(int(p) for p in os.uname().release.split("-")[0].split(".")[:2])
        if running < tuple(int(p) for p in min_kernel.split(".")[:2]):
            return False
    return True
