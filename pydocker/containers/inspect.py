"""The Engine API's container documents: inspect (GET /containers/{id}/json) and ps rows."""

import os
import time

from pydocker.timeutil import human_duration, parse_rfc3339, rfc3339

CONFIG_DEFAULTS = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
    "Labels": {},
}

HOST_CONFIG_DEFAULTS = {
    "Binds": None, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}},
    "NetworkMode": "bridge", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
    "AutoRemove": False, "VolumeDriver": "", "VolumesFrom": None, "ConsoleSize": [0, 0], "CapAdd": None,
    "CapDrop": None, "CgroupnsMode": "host", "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": None,
    "GroupAdd": None, "IpcMode": "private", "Cgroup": "", "Links": None, "OomScoreAdj": 0, "PidMode": "",
    "Privileged": False, "PublishAllPorts": False, "ReadonlyRootfs": False, "SecurityOpt": None,
    "UTSMode": "", "UsernsMode": "", "ShmSize": 67108864, "Runtime": "runc", "Isolation": "",
    "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
    "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [],
    "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0,
    "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "", "Devices": [],
    "DeviceCgroupRules": None, "DeviceRequests": None, "MemoryReservation": 0, "MemorySwap": 0,
    "MemorySwappiness": None, "OomKillDisable": None, "PidsLimit": None, "Ulimits": None,
    "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
    "MaskedPaths": None, "ReadonlyPaths": None,
}


def _with_defaults(defaults, values):
    merged = dict(defaults)
    merged.update({k: v for k, v in values.items()})
    return merged


def network_settings(container):
    ns = container.network_settings or {}
    doc = {
        "Bridge": "", "SandboxID": "", "SandboxKey": "", "HairpinMode": False,
        "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0, "Ports": {},
        "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None, "EndpointID": "",
        "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "", "Networks": {},
    }
    doc.update(ns)
    if container.running and container.state.get("Pid"):
        doc["SandboxKey"] = f"/proc/{container.state['Pid']}/ns/net"
    return doc


def inspect_document(container, driver_name, driver_data, container_dir, mounts, size=None):
    config = _with_defaults(CONFIG_DEFAULTS, container.config)
    host_config = _with_defaults(HOST_CONFIG_DEFAULTS, container.host_config)
    args = list(container.config.get("Entrypoint") or []) + list(container.config.get("Cmd") or [])
    doc = {
        "Id": container.id,
        "Created": rfc3339(container.created),
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {k: v for k, v in container.state.items() if k != "ManuallyStopped"},
        "Image": container.image_id,
        "ResolvConfPath": os.path.join(container_dir, "resolv.conf"),
        "HostnamePath": os.path.join(container_dir, "hostname"),
        "HostsPath": os.path.join(container_dir, "hosts"),
        "LogPath": os.path.join(container_dir, f"{container.id}-json.log"),
        "Name": "/" + container.name,
        "RestartCount": container.restart_count,
        "Driver": driver_name,
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": host_config,
        "GraphDriver": {"Name": driver_name, "Data": driver_data},
        "Mounts": mounts,
        "Config": config,
        "NetworkSettings": network_settings(container),
    }
    if size is not None:
        doc["SizeRw"], doc["SizeRootFs"] = size
    return doc


def human_status(container, now=None):
    """`docker ps` STATUS: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created"."""
    now = now or time.time()
    state = container.state
    if state.get("Restarting"):
        return f"Restarting ({state['ExitCode']}) {_ago(now, state['FinishedAt'])} ago"
    if state.get("Running"):
        text = f"Up {human_duration(now - parse_rfc3339(state['StartedAt']) / 1e9)}"
        if state.get("Paused"):
            return text + " (Paused)"
        health = (state.get("Health") or {}).get("Status")
        if health:
            return text + (" (health: starting)" if health == "starting" else f" ({health})")
        return text
    if state.get("Dead"):
        return "Dead"
    if state.get("Status") == "created":
        return "Created"
    if state.get("Status") == "removing":
        return "Removal In Progress"
    return f"Exited ({state['ExitCode']}) {_ago(now, state['FinishedAt'])} ago"


def _ago(now, stamp):
    return human_duration(now - parse_rfc3339(stamp) / 1e9)


def summary_document(container, mounts, size=None):
    """One row of GET /containers/json."""
    ns = network_settings(container)
    args = list(container.config.get("Entrypoint") or []) + list(container.config.get("Cmd") or [])
    doc = {
        "Id": container.id,
        "Names": ["/" + container.name],
        "Image": container.image_name,
        "ImageID": container.image_id,
        "Command": " ".join(args),
        "Created": container.created // 1_000_000_000,
        "Ports": ports_list(ns.get("Ports") or {}),
        "Labels": container.config.get("Labels") or {},
        "State": container.state["Status"],
        "Status": human_status(container),
        "HostConfig": {"NetworkMode": container.host_config.get("NetworkMode") or "bridge"},
        "NetworkSettings": {"Networks": ns.get("Networks") or {}},
        "Mounts": mounts,
    }
    if size is not None:
        doc["SizeRw"], doc["SizeRootFs"] = size
    return doc


def ports_list(ports):
    """NetworkSettings.Ports → the list form of ps: [{IP, PrivatePort, PublicPort, Type}]."""
    result = []
    for key, bindings in ports.items():
        number, _, proto = key.partition("/")
        if not bindings:
            result.append({"PrivatePort": int(number), "Type": proto or "tcp"})
            continue
        for b in bindings:
            result.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(number),
                           "PublicPort": int(b["HostPort"]), "Type": proto or "tcp"})
    return result
