"""Validating the body of ``POST /containers/create`` as dockerd does.

Types are checked field by field against the tables below (a wrong type is a
400 that names the field); then the rules that span fields (restart policy and
AutoRemove, memory minimums, CPU ranges) are applied with dockerd's messages.
What dockerd refuses at create is refused here, not first at start; ``verify_on_host``
holds the checks that read the host (capabilities held, CPUs and memory nodes online).
"""

import os

from pydocker import sysinfo
from pydocker.drivers.exec import capabilities
from pydocker.drivers.exec.cgroups import devicerules
from pydocker.errdefs import InvalidParameter
from pydocker.fields import STR_LIST, STR_MAP, UINT_PAIR, check, naming, uint_pair
from pydocker.runtime.signals import parse_signal

CONFIG_TYPES = {
    "Hostname": str, "Domainname": str, "User": str, "AttachStdin": bool, "AttachStdout": bool,
    "AttachStderr": bool, "ExposedPorts": dict, "Tty": bool, "OpenStdin": bool, "StdinOnce": bool,
    "Env": STR_LIST, "Cmd": (list, str), "Healthcheck": dict, "ArgsEscaped": bool, "Image": str,
    "Volumes": dict, "WorkingDir": str, "Entrypoint": (list, str), "NetworkDisabled": bool,
    "MacAddress": str, "OnBuild": STR_LIST, "Labels": STR_MAP, "StopSignal": str, "StopTimeout": int,
    "Shell": STR_LIST,
}

HOST_CONFIG_TYPES = {
    "Binds": STR_LIST, "ContainerIDFile": str, "LogConfig": dict, "NetworkMode": str, "PortBindings": dict,
    "RestartPolicy": dict, "AutoRemove": bool, "VolumeDriver": str, "VolumesFrom": STR_LIST, "Mounts": list,
    "CapAdd": STR_LIST, "CapDrop": STR_LIST, "CgroupnsMode": str, "Dns": STR_LIST, "DnsOptions": STR_LIST,
    "DnsSearch": STR_LIST, "ExtraHosts": STR_LIST, "GroupAdd": STR_LIST, "IpcMode": str, "Cgroup": str,
    "Links": STR_LIST, "OomScoreAdj": int, "PidMode": str, "Privileged": bool, "PublishAllPorts": bool,
    "ReadonlyRootfs": bool, "SecurityOpt": STR_LIST, "StorageOpt": STR_MAP, "Tmpfs": STR_MAP,
    "UTSMode": str, "UsernsMode": str, "ShmSize": int, "Sysctls": STR_MAP, "Runtime": str,
    "Isolation": str, "Memory": int, "MemoryReservation": int, "MemorySwap": int, "KernelMemory": int,
    "NanoCpus": int, "CpuShares": int, "CpuPeriod": int, "CpuQuota": int, "CpusetCpus": str,
    "CpusetMems": str, "BlkioWeight": int, "BlkioWeightDevice": list, "BlkioDeviceReadBps": list,
    "BlkioDeviceWriteBps": list, "BlkioDeviceReadIOps": list, "BlkioDeviceWriteIOps": list,
    "PidsLimit": int, "OomKillDisable": bool, "Ulimits": list, "Devices": list, "Init": bool,
    "MaskedPaths": STR_LIST, "ReadonlyPaths": STR_LIST, "ConsoleSize": UINT_PAIR, "CgroupParent": str,
    "MemorySwappiness": int, "DeviceCgroupRules": STR_LIST, "LxcConf": list,
}

RESTART_POLICIES = ("", "no", "always", "unless-stopped", "on-failure")
MIN_MEMORY = 6 * 1024 * 1024
MAX_HOSTNAME = 64   # bytes, the kernel's limit for sethostname (__NEW_UTS_LEN)


def validate_create(body):
    """(config, host_config, networking_config) from the create body, validated."""
    check(body, CONFIG_TYPES, "")
    host_config = check(body.get("HostConfig") or {}, HOST_CONFIG_TYPES, "HostConfig")
    networking = check(body.get("NetworkingConfig") or {}, {"EndpointsConfig": dict}, "NetworkingConfig")
    config = {k: v for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig")}
    for key in ("Cmd", "Entrypoint"):
        if isinstance(config.get(key), str):
            config[key] = [config[key]]
        if isinstance(config.get(key), list) and not all(isinstance(v, str) for v in config[key]):
            raise InvalidParameter(f"invalid type for field {key}: expected a list of strings")
    if not config.get("Image"):
        raise InvalidParameter("config.Image is required: no image given")
    check_env(config.get("Env"), "Env")
    if len((config.get("Hostname") or "").encode()) > MAX_HOSTNAME:
        raise InvalidParameter(f"hostname {config['Hostname']!r} is too long (maximum {MAX_HOSTNAME} bytes) (Hostname)")
    working_dir = config.get("WorkingDir") or ""
    if working_dir and not working_dir.startswith("/"):
        raise InvalidParameter(f"the working directory '{working_dir}' is invalid, it needs to be an absolute path "
                               f"(WorkingDir)")
    if config.get("StopSignal"):
        with naming("StopSignal"):
            parse_signal(config["StopSignal"])
    _validate_healthcheck(config.get("Healthcheck"))
    validate_host_config(host_config)
    return config, dict(host_config), networking


def check_env(env, field, unsets=False):
    """An environment list (a container's or an exec's) as dockerd and runc take it: every
    item has a name before its ``=`` (dockerd refuses that at create, runc at an exec's
    start: we say so at create for both), and no NUL byte (runc, likewise). ``unsets``:
    an exec's items without ``=`` unset a variable, and dockerd drops an empty one."""
    for item in env or []:
        name, equals, _ = item.partition("=")
        if not name and (equals or not unsets):
            raise InvalidParameter(f"invalid environment variable: {item} ({field})")
        if "\0" in item:
            raise InvalidParameter(f"invalid environment variable: {item!r} contains a NUL byte ({field})")


def verify_on_host(hc, where="HostConfig"):
    """What create (and update, for the CPU sets) checks against this host, as dockerd:
    the capabilities added are held by the daemon, the CPUs and memory nodes asked for
    are online. Blocking: reads /proc and /sys. ``where`` as for ``validate_host_config``."""
    try:
        capabilities.verify(hc.get("CapAdd") or [], hc.get("CapDrop") or [])
    except ValueError as e:
        raise InvalidParameter(str(e)) from None
    for key, name, what, online in (("CpusetCpus", "cpus", "CPUs", sysinfo.cpus_online),
                                    ("CpusetMems", "mems", "memory nodes", sysinfo.mems_online)):
        wanted = hc.get(key) or ""
        if not wanted:
            continue
        field = f"{where}.{key}" if where else key
        try:
            asked = sysinfo.parse_id_list(wanted)
        except ValueError as e:
            raise InvalidParameter(f"Invalid value {wanted} for cpuset {name}: {e} ({field})") from None
        available = online()
        if not asked <= sysinfo.parse_id_list(available):
            raise InvalidParameter(f"Requested {what} are not available - requested {wanted}, available: "
                                   f"{available} ({field})")


def _validate_healthcheck(healthcheck):
    """dockerd's limits: durations 0 (the default) or at least 1ms, retries not negative."""
    fields = check(healthcheck or {}, {"Test": list, "Interval": int, "Timeout": int, "StartPeriod": int,
                                        "StartInterval": int, "Retries": int}, "Healthcheck")
    for key in ("Interval", "Timeout", "StartPeriod", "StartInterval"):
        if 0 < (fields.get(key) or 0) < 1_000_000 or (fields.get(key) or 0) < 0:
            raise InvalidParameter(f"{key} in Healthcheck cannot be less than 1ms")
    if (fields.get("Retries") or 0) < 0:
        raise InvalidParameter("Retries in Healthcheck cannot be negative")


def check_userns_remap(hc):
    """What dockerd refuses when the daemon remaps root and the container does
    not opt out with ``--userns=host``."""
    if hc.get("UsernsMode") == "host":
        return
    if hc.get("Privileged"):
        raise InvalidParameter("privileged mode is incompatible with user namespaces.  You must run the "
                               "container in the host namespace when running privileged mode")
    if hc.get("NetworkMode") == "host":
        raise InvalidParameter("cannot share the host's network namespace when user namespaces are enabled")
    if hc.get("PidMode") == "host":
        raise InvalidParameter("cannot share the host PID namespace when user namespaces are enabled")


def validate_host_config(hc, where="HostConfig"):
    """dockerd's rules for a host config; each refusal names its field, under ``where`` (the
    create body's ``HostConfig``, or ``""`` for an update's body, whose fields are at its top)."""
    def field(name):
        return f"{where}.{name}" if where else name

    policy = check(hc.get("RestartPolicy") or {}, {"Name": str, "MaximumRetryCount": int}, field("RestartPolicy"))
    name = policy.get("Name", "")
    if name not in RESTART_POLICIES:
        raise InvalidParameter(f"invalid restart policy '{name}' ({field('RestartPolicy.Name')})")
    retries = policy.get("MaximumRetryCount", 0)
    if retries < 0:
        raise InvalidParameter(f"invalid restart policy: maximum retry count cannot be negative "
                               f"({field('RestartPolicy.MaximumRetryCount')})")
    if retries and name != "on-failure":
        raise InvalidParameter(f"invalid restart policy: maximum retry count can only be used with 'on-failure' "
                               f"({field('RestartPolicy.MaximumRetryCount')})")
    if "RestartPolicy" in hc:
        hc["RestartPolicy"] = {"Name": name or "no", "MaximumRetryCount": retries}
    if hc.get("AutoRemove") and name not in ("", "no"):
        raise InvalidParameter(f"conflicting options: cannot specify both --restart and --rm "
                               f"({field('AutoRemove')} and {field('RestartPolicy')})")
    memory = hc.get("Memory", 0) or 0
    if 0 < memory < MIN_MEMORY:
        raise InvalidParameter(f"Minimum memory limit allowed is 6MB ({field('Memory')})")
    swap = hc.get("MemorySwap", 0) or 0
    if swap > 0 and memory and swap < memory:
        raise InvalidParameter(f"Minimum memoryswap limit should be larger than memory limit, see usage "
                               f"({field('MemorySwap')})")
    if swap > 0 and not memory:
        raise InvalidParameter(f"You should always set the Memory limit when using Memoryswap limit, see usage "
                               f"({field('MemorySwap')})")
    reservation = hc.get("MemoryReservation", 0) or 0
    if 0 < reservation < MIN_MEMORY:
        raise InvalidParameter(f"Minimum memory reservation allowed is 6MB ({field('MemoryReservation')})")
    if memory and reservation and reservation > memory:
        raise InvalidParameter(f"Minimum memory limit can not be less than memory reservation limit, see usage "
                               f"({field('MemoryReservation')})")
    swappiness = hc.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidParameter(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100 "
                               f"({field('MemorySwappiness')})")
    nano = hc.get("NanoCpus", 0) or 0
    if nano and (hc.get("CpuQuota") or hc.get("CpuPeriod")):
        raise InvalidParameter(f"Conflicting options: Nano CPUs and CPU Period cannot both be set "
                               f"({field('NanoCpus')})")
    ncpu = os.cpu_count() or 1
    if nano < 0 or nano > ncpu * 1_000_000_000:
        raise InvalidParameter(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available "
                               f"({field('NanoCpus')})")
    period = hc.get("CpuPeriod", 0) or 0
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidParameter(f"CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                               f"(i.e. 1000000) ({field('CpuPeriod')})")
    quota = hc.get("CpuQuota", 0) or 0
    if quota and quota < 1000:
        raise InvalidParameter(f"CPU cfs quota can not be less than 1ms (i.e. 1000) ({field('CpuQuota')})")
    if (hc.get("CpuShares", 0) or 0) < 0:
        raise InvalidParameter(f"invalid CPU shares: must not be negative ({field('CpuShares')})")
    weight = hc.get("BlkioWeight", 0) or 0
    if weight and not 10 <= weight <= 1000:
        raise InvalidParameter(f"Range of blkio weight is from 10 to 1000 ({field('BlkioWeight')})")
    check(hc.get("LogConfig") or {}, {"Type": str, "Config": STR_MAP}, field("LogConfig"))
    for i, mount in enumerate(hc.get("Mounts") or []):
        check(mount, {"Type": str, "Source": str, "Target": str, "ReadOnly": bool, "Consistency": str,
                      "BindOptions": dict, "VolumeOptions": dict, "TmpfsOptions": dict}, field(f"Mounts[{i}]"))
    for port, bindings in (hc.get("PortBindings") or {}).items():
        if not isinstance(bindings, list):
            raise InvalidParameter(f"invalid type for field {field('PortBindings')}.{port}: expected an array")
        for i, binding in enumerate(bindings):
            check(binding, {"HostIp": str, "HostPort": str}, f"{field('PortBindings')}.{port}[{i}]")
    ulimits = []
    for i, ulimit in enumerate(hc.get("Ulimits") or []):
        check(ulimit, {"Name": str, "Soft": int, "Hard": int}, field(f"Ulimits[{i}]"))
        # stored whole, as Go's struct: a field left out (or null) is its zero value
        ulimit = {"Name": ulimit.get("Name", ""), "Soft": ulimit.get("Soft", 0), "Hard": ulimit.get("Hard", 0)}
        if ulimit["Soft"] > ulimit["Hard"]:
            raise InvalidParameter(f"ulimit {ulimit['Name']}: soft limit must be less than or equal to hard limit "
                                   f"({field(f'Ulimits[{i}]')})")
        ulimits.append(ulimit)
    if ulimits:
        hc["Ulimits"] = ulimits
    oom_score_adj = hc.get("OomScoreAdj", 0) or 0
    if not -1000 <= oom_score_adj <= 1000:
        raise InvalidParameter(f"Invalid value {oom_score_adj}, range for oom score adj is [-1000, 1000] "
                               f"({field('OomScoreAdj')})")
    if (hc.get("ShmSize", 0) or 0) < 0:
        raise InvalidParameter(f"SHM size can not be less than 0 ({field('ShmSize')})")
    for target in hc.get("Tmpfs") or {}:
        if not target.startswith("/"):
            raise InvalidParameter(f"invalid mount path: '{target}' mount path must be absolute ({field('Tmpfs')})")
        if target.rstrip("/") == "":
            raise InvalidParameter(f"invalid specification: destination can't be '/' ({field('Tmpfs')})")
    for i, device in enumerate(hc.get("Devices") or []):
        check(device, {"PathOnHost": str, "PathInContainer": str, "CgroupPermissions": str}, field(f"Devices[{i}]"))
        permissions = device.get("CgroupPermissions") or ""
        if not set(permissions) <= set("rwm") or len(permissions) > 3:
            raise InvalidParameter(f"invalid device cgroup permissions '{permissions}': r, w and m only "
                                   f"({field(f'Devices[{i}].CgroupPermissions')})")
    for i, rule in enumerate(hc.get("DeviceCgroupRules") or []):
        try:
            devicerules.check(rule)
        except ValueError as e:
            raise InvalidParameter(f"{e} ({field(f'DeviceCgroupRules[{i}]')})") from None
    for mode_key in ("PidMode", "IpcMode", "UTSMode"):
        mode = hc.get(mode_key, "")
        if mode not in ("", "host", "private", "shareable") and not mode.startswith("container:"):
            raise InvalidParameter(f"invalid {field(mode_key)}: {mode}")
    if hc.get("CgroupnsMode") not in (None, "", "host", "private"):
        raise InvalidParameter(f"invalid cgroup namespace mode: {hc['CgroupnsMode']} ({field('CgroupnsMode')})")
    for i, entry in enumerate(hc.get("LxcConf") or []):
        check(entry, {"Key": str, "Value": str}, field(f"LxcConf[{i}]"))
        if not entry.get("Key"):
            raise InvalidParameter(f"{field(f'LxcConf[{i}].Key')} is required")
    if hc.get("UsernsMode") not in (None, "", "host"):
        raise InvalidParameter(f"invalid {field('UsernsMode')} {hc['UsernsMode']!r}: only \"host\" (or nothing) is allowed")
    if "ConsoleSize" in hc:
        hc["ConsoleSize"] = uint_pair(hc["ConsoleSize"])
    for link in hc.get("Links") or []:
        if not link.partition(":")[0]:
            raise InvalidParameter(f"invalid {field('Links')} entry {link!r}: no container name")
    for spec in hc.get("VolumesFrom") or []:
        if not spec:
            raise InvalidParameter(f"volumes-from specification cannot be an empty string ({field('VolumesFrom')})")
    if hc.get("Isolation") not in (None, "", "default"):
        raise InvalidParameter(f"invalid isolation '{hc['Isolation']}' on linux ({field('Isolation')})")
