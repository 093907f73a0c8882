"""Value parsers for daemon flags and daemon.json keys.

Each parser takes the text given by the user and returns the typed value or
raises ``ConfigError`` with a message naming what is wrong.
"""

import ipaddress
import re

from pydocker.errdefs import InvalidParameter


class ConfigError(InvalidParameter):
    """A daemon flag or daemon.json value is wrong."""


TRUE = {"1", "true", "t", "yes", "y", "on"}
FALSE = {"0", "false", "f", "no", "n", "off"}
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")


def parse_bool(text):
    if isinstance(text, bool):
        return text
    low = str(text).lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ConfigError(f"invalid boolean value {text!r}")


def parse_int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid integer value {text!r}") from None


def parse_log_level(text):
    if text not in LOG_LEVELS:
        raise ConfigError(f"invalid log level {text!r}: use one of {', '.join(LOG_LEVELS)}")
    return text


def parse_cgroupns_mode(text):
    if text not in ("host", "private"):
        raise ConfigError(f"invalid default cgroup namespace mode {text!r}: use host or private")
    return text


def parse_host(text):
    """unix://PATH, tcp://[HOST]:PORT, fd://, fd://N → (scheme, address)."""
    text = text.strip()
    if text.startswith("unix://"):
        path = text[len("unix://"):] or "/var/run/pydocker.sock"
        return ("unix", path)
    if text.startswith("fd://"):
        rest = text[len("fd://"):]
        if rest and not rest.isdigit():
            raise ConfigError(f"invalid fd host {text!r}: use fd:// or fd://N")
        return ("fd", rest)
    if text.startswith("tcp://") or re.match(r"^[\w.\[\]:-]*:\d+$", text):
        rest = text[len("tcp://"):] if text.startswith("tcp://") else text
        host, _, port = rest.rpartition(":")
        if not _ or not port:
            host, port = rest, ""
        host = host.strip("[]") or "0.0.0.0"
        if not port:
            raise ConfigError(f"invalid tcp host {text!r}: a port is required, e.g. tcp://127.0.0.1:2375")
        port = parse_int(port)
        if not 0 < port < 65536:
            raise ConfigError(f"invalid port in {text!r}")
        return ("tcp", (host, port))
    raise ConfigError(f"invalid host {text!r}: use unix://PATH, tcp://HOST:PORT, fd:// or fd://N")


def parse_cidr(text):
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        raise ConfigError(f"invalid CIDR address {text!r}") from None


def parse_ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(f"invalid IP address {text!r}") from None


def parse_mtu(text):
    mtu = parse_int(text)
    if not 68 <= mtu <= 65535:
        raise ConfigError(f"invalid MTU {mtu}: must be between 68 and 65535")
    return mtu


def parse_key_value(text):
    key, eq, value = str(text).partition("=")
    if not eq or not key:
        raise ConfigError(f"invalid value {text!r}: expected KEY=VALUE")
    return key, value


# Linux resource limit names accepted by --ulimit (the exec driver maps them to numbers).
ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
           "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


def parse_ulimit(text):
    """name=soft[:hard] → {"Name", "Soft", "Hard"} (the Engine API's shape)."""
    if isinstance(text, dict):
        text = f"{text.get('Name')}={text.get('Soft')}:{text.get('Hard')}"
    name, value = parse_key_value(text)
    if name not in ULIMITS:
        raise ConfigError(f"invalid ulimit type {name!r}")
    soft, _, hard = value.partition(":")
    soft = parse_int(soft)
    hard = parse_int(hard) if hard else soft
    if soft > hard:
        raise ConfigError(f"ulimit {name}: soft limit {soft} is above the hard limit {hard}")
    return {"Name": name, "Soft": soft, "Hard": hard}


def parse_registry(text):
    """host[:port] or a CIDR."""
    if "/" in text:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ConfigError(f"invalid insecure registry CIDR {text!r}") from None
        return text
    if "://" in text:
        raise ConfigError(f"insecure registry {text!r} should not contain '://'")
    if not re.match(r"^[A-Za-z0-9.\-\[\]:]+$", text):
        raise ConfigError(f"invalid insecure registry {text!r}")
    return text


def parse_mirror(text):
    if not re.match(r"^https?://[^/]+", text):
        raise ConfigError(f"invalid registry mirror {text!r}: it must be an http:// or https:// URL")
    return text.rstrip("/")

