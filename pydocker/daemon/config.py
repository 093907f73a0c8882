"""The daemon's configuration: flags, daemon.json, defaults, validation.

One table, ``OPTIONS``, declares every setting once: its flags, its daemon.json
key (dockerd's names), its parser, its default and its help. The command line
and the file are merged as dockerd does: a key given in both is an error.
"""

import argparse
import json
import os
from dataclasses import dataclass, field

from pydocker.daemon import options as p
from pydocker import sysinfo
from pydocker.drivers.exec import cgroups
from pydocker.daemon.options import ConfigError

DEFAULT_CONFIG_FILE = "/etc/pydocker/daemon.json"
DEFAULT_SOCKET = "unix:///var/run/pydocker.sock"


@dataclass(frozen=True)
class Option:
    flags: tuple
    key: str  # daemon.json key, also the attribute name with '-' → '_'
    parse: object = str
    default: object = None
    help: str = ""
    multiple: bool = False  # repeatable flag / JSON list
    is_bool: bool = False

    @property
    def attr(self):
        return self.key.replace("-", "_")


def _o(flags, key, parse=str, default=None, help="", multiple=False):
    flags = tuple(flags.split())
    return Option(flags, key, parse, default, help, multiple, parse is p.parse_bool)


OPTIONS = [
    # Listeners, files, logging
    _o("-H --host", "hosts", p.parse_host, [DEFAULT_SOCKET], "socket(s) to listen on: unix://PATH, tcp://HOST:PORT, fd://, fd://N (repeatable)", True),
    _o("-g --graph --data-root", "data-root", os.path.abspath, "/var/lib/pydocker", "root of the persistent state: images, containers, metadata"),
    _o("--exec-root", "exec-root", os.path.abspath, "/var/run/pydocker", "root of the run-time state"),
    _o("-p --pidfile", "pidfile", os.path.abspath, "/var/run/pydocker.pid", "path of the pid file"),
    _o("-D --debug", "debug", p.parse_bool, False, "debug mode: log level debug, reactor stalls over 50 ms logged"),
    _o("-l --log-level", "log-level", p.parse_log_level, "info", "log level: debug, info, warn, error, fatal"),
    _o("-G --group", "group", str, "docker", "group owning the unix socket (when the group exists)"),
    # Drivers
    _o("-s --storage-driver", "storage-driver", str, None, "graph driver: overlay2 (overlay), btrfs, devicemapper, vfs; default: chosen by the host"),
    _o("--storage-opt", "storage-opts", str, [], "graph driver option KEY=VALUE, e.g. dm.basesize=20G (repeatable)", True),
    _o("-e --exec-driver", "exec-driver", str, "native", "exec driver: native or lxc"),
    _o("--exec-opt", "exec-opts", str, [], "exec driver option KEY=VALUE (repeatable)", True),
    # Network
    _o("-b --bridge", "bridge", str, None, "attach containers to this existing bridge; 'none' disables container networking"),
    _o("--bip", "bip", p.parse_cidr, None, "address and prefix of the default bridge, e.g. 172.17.0.1/16"),
    _o("--fixed-cidr", "fixed-cidr", p.parse_cidr, None, "allocate container addresses from this subnet of the bridge's"),
    _o("--default-gateway", "default-gateway", p.parse_ip, None, "default gateway of containers"),
    _o("--ip", "ip", p.parse_ip, "0.0.0.0", "default host address for published ports"),
    _o("--ip-forward", "ip-forward", p.parse_bool, True, "enable net.ipv4.ip_forward"),
    _o("--ip-masq", "ip-masq", p.parse_bool, True, "masquerade traffic leaving the bridge subnet"),
    _o("--iptables", "iptables", p.parse_bool, True, "add iptables rules (false: touch no rule)"),
    _o("--icc", "icc", p.parse_bool, True, "allow traffic between containers on the default bridge"),
    _o("--mtu", "mtu", p.parse_mtu, 1500, "MTU of container interfaces"),
    _o("--dns", "dns", p.parse_ip, [], "DNS server for containers (repeatable)", True),
    _o("--dns-search", "dns-search", str, [], "DNS search domain for containers (repeatable)", True),
    _o("--dns-opt", "dns-opts", str, [], "DNS option for containers (repeatable)", True),
    _o("--userland-proxy", "userland-proxy", p.parse_bool, True, "forward loopback traffic to published ports with an in-daemon proxy"),
    # TLS
    _o("--tls", "tls", p.parse_bool, False, "serve TCP listeners over TLS (implied by --tlsverify)"),
    _o("--tlsverify", "tlsverify", p.parse_bool, False, "require and verify client certificates"),
    _o("--tlscacert", "tlscacert", str, "~/.docker/ca.pem", "CA certificate that signs trusted client certificates"),
    _o("--tlscert", "tlscert", str, "~/.docker/cert.pem", "server certificate"),
    _o("--tlskey", "tlskey", str, "~/.docker/key.pem", "server private key"),
    # Registries
    _o("--insecure-registry", "insecure-registries", p.parse_registry, [], "registry (host:port or CIDR) reached over plain HTTP or unverified TLS (repeatable)", True),
    _o("--registry-mirror", "registry-mirrors", p.parse_mirror, [], "mirror for docker.io pulls (repeatable)", True),
    _o("--max-concurrent-downloads", "max-concurrent-downloads", p.parse_int, 3, "layer downloads at once per pull"),
    _o("--max-concurrent-uploads", "max-concurrent-uploads", p.parse_int, 5, "layer uploads at once per push"),
    # Containers
    _o("--label", "labels", str, [], "daemon label KEY=VALUE (repeatable)", True),
    _o("--log-driver", "log-driver", str, "json-file", "default log driver of containers: json-file, syslog, none"),
    _o("--log-opt", "log-opts", p.parse_key_value, [], "default log driver option KEY=VALUE (repeatable)", True),
    _o("--default-ulimit", "default-ulimits", p.parse_ulimit, [], "default ulimit NAME=SOFT[:HARD] for containers (repeatable)", True),
    _o("--cgroup-parent", "cgroup-parent", str, "pydocker", "parent cgroup of containers"),
    _o("--default-cgroupns-mode", "default-cgroupns-mode", p.parse_cgroupns_mode, None, "cgroup namespace of containers that name none: host or private; default: private on a cgroup v2 host, host on v1"),
    _o("--userns-remap", "userns-remap", str, "", "run containers in user namespaces whose root is an unprivileged host id: default (the dockremap user, created if missing), USER, USER:GROUP, UID or UID:GID, with ranges from /etc/subuid and /etc/subgid; images, containers and volumes then live in <data-root>/<uid>.<gid>"),
    _o("--selinux-enabled", "selinux-enabled", p.parse_bool, False, "SELinux support (not available: refused when true)"),
    _o("--api-cors-header", "api-cors-header", str, "", "value of Access-Control-Allow-Origin on API responses"),
    _o("--shutdown-timeout", "shutdown-timeout", p.parse_int, 15, "seconds to let containers stop at daemon shutdown (the whole stop ends at most 10 s later)"),
]

BY_KEY = {o.key: o for o in OPTIONS}
# Keys that SIGHUP may change without a restart.
RELOADABLE = ("debug", "log-level", "labels")


@dataclass
class DaemonConfig:
    """Every setting, typed; attribute names are the daemon.json keys with '_'."""

    values: dict = field(default_factory=dict)
    config_file: str = DEFAULT_CONFIG_FILE

    def __getattr__(self, name):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def labels_map(self):
        return dict(p.parse_key_value(label) for label in self.labels)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pydocker -d",
        description="Run the pydocker daemon: the Docker Engine API on the given sockets.",
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--config-file", default=argparse.SUPPRESS,
                        help=f"daemon configuration file (default {DEFAULT_CONFIG_FILE})")
    for opt in OPTIONS:
        kwargs = {"dest": opt.attr, "help": _help(opt)}
        if opt.is_bool:
            kwargs.update(nargs="?", const="true", metavar="true|false")
        elif opt.multiple:
            kwargs.update(action="append")
        parser.add_argument(*opt.flags, **kwargs)
    return parser


def _help(opt):
    if opt.multiple or opt.default in (None, "", []):
        return opt.help
    return f"{opt.help} (default {opt.default})"


def load(argv, environ=os.environ):
    """Parse ``argv`` and the config file into a validated DaemonConfig."""
    parser = build_parser()
    ns = vars(parser.parse_args(argv))
    config_file = ns.pop("config_file", None)
    explicit_file = config_file is not None
    config_file = config_file or DEFAULT_CONFIG_FILE
    from_flags = {opt.key: _parse_flag(opt, ns[opt.attr]) for opt in OPTIONS if opt.attr in ns}
    from_file = read_file(config_file, required=explicit_file)
    both = sorted(set(from_flags) & set(from_file))
    if both:
        detail = ", ".join(f"{k}: (from flag: {_show(from_flags[k])}, from file: {_show(from_file[k])})" for k in both)
        raise ConfigError(f"the following directives are specified both as a flag and in the "
                          f"configuration file: {detail}")
    values = {opt.attr: opt.default for opt in OPTIONS}
    for source in (from_file, from_flags):
        values.update({BY_KEY[k].attr: v for k, v in source.items()})
    if isinstance(values["hosts"], list) and values["hosts"] and isinstance(values["hosts"][0], str):
        values["hosts"] = [p.parse_host(h) for h in values["hosts"]]
    config = DaemonConfig(values=values, config_file=config_file)
    validate(config)
    return config


def _show(value):
    return json.dumps(value, default=str)


def _parse_flag(opt, raw):
    if opt.multiple:
        return [opt.parse(v) for v in raw]
    return opt.parse(raw)


def read_file(path, required=False):
    """daemon.json as {key: parsed value}; unknown keys and bad values are errors."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"unable to read configuration file {path}: no such file") from None
        return {}
    except OSError as e:
        raise ConfigError(f"unable to read configuration file {path}: {e.strerror}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"unable to parse configuration file {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a JSON object")
    result = {}
    for key, raw in data.items():
        opt = BY_KEY.get(key)
        if opt is None:
            raise ConfigError(f"configuration file {path}: unknown key {key!r}")
        result[key] = _parse_file_value(opt, raw, path)
    return result


def _parse_file_value(opt, raw, path):
    try:
        if opt.multiple:
            if opt.key == "log-opts" and isinstance(raw, dict):
                return [(k, str(v)) for k, v in raw.items()]
            if opt.key == "default-ulimits" and isinstance(raw, dict):
                return [p.parse_ulimit({"Name": k, **v}) for k, v in raw.items()]
            if opt.key == "labels" and isinstance(raw, dict):
                raw = [f"{k}={v}" for k, v in raw.items()]
            if not isinstance(raw, list):
                raise ConfigError(f"expected a list, got {type(raw).__name__}")
            return [opt.parse(v) for v in raw]
        if opt.is_bool and not isinstance(raw, bool):
            raise ConfigError(f"expected true or false, got {raw!r}")
        return opt.parse(raw)
    except ConfigError as e:
        raise ConfigError(f"configuration file {path}: {opt.key}: {e.message}") from None


def validate(config):
    """Cross-field checks, as dockerd makes them before touching anything."""
    v = config.values
    if v["debug"]:
        v["log_level"] = "debug"
    if v["tlsverify"]:
        v["tls"] = True
    if v["bridge"] and v["bip"]:
        raise ConfigError("--bridge and --bip are mutually exclusive: --bip configures the default bridge only")
    if v["bridge"] == "none" and v["fixed_cidr"]:
        raise ConfigError("--fixed-cidr needs a bridge, but --bridge=none disables networking")
    if v["fixed_cidr"] and v["bip"] and not v["fixed_cidr"].network.subnet_of(v["bip"].network):
        raise ConfigError(f"--fixed-cidr {v['fixed_cidr']} is not inside the bridge subnet {v['bip'].network}")
    if v["icc"] is False and v["iptables"] is False:
        raise ConfigError("--icc=false needs --iptables=true")
    if v["iptables"] is False:
        v["ip_masq"] = False  # masquerading is an iptables rule; dockerd drops it the same way
    if v["selinux_enabled"]:
        raise ConfigError("--selinux-enabled: SELinux is not supported by pydocker")
    if v["default_cgroupns_mode"] is None:
        v["default_cgroupns_mode"] = cgroups.default_namespace_mode()
    elif v["default_cgroupns_mode"] == "private" and not sysinfo.cgroup_namespaces():
        raise ConfigError("--default-cgroupns-mode=private: this kernel has no cgroup namespaces")
    if v["shutdown_timeout"] < 0:
        raise ConfigError("--shutdown-timeout must be 0 or more")
    for key in ("max_concurrent_downloads", "max_concurrent_uploads"):
        if v[key] < 1:
            raise ConfigError(f"--{key.replace('_', '-')} must be at least 1")
    for text in v["labels"]:
        p.parse_key_value(text)
    for text in v["storage_opts"] + v["exec_opts"]:
        p.parse_key_value(text)
    if v["tls"]:
        for key in ("tlscert", "tlskey") + (("tlscacert",) if v["tlsverify"] else ()):
            v[key] = os.path.expanduser(v[key])
    if not v["hosts"]:
        v["hosts"] = [p.parse_host(DEFAULT_SOCKET)]
