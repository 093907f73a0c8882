"""Docker's timestamps (RFC 3339 with nanoseconds, ns since the epoch) and its human durations.

Shared by the daemon and the client, so it imports only what the client can afford at start-up.
"""

import re
import time

ZERO_TIME = "0001-01-01T00:00:00Z"
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def rfc3339(ns=None):
    """2026-11-23T00:39:55.123456789Z for ``ns`` (default: now)."""
    ns = time.time_ns() if ns is None else int(ns)
    seconds, nanos = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"


def parse_rfc3339(text):
    """ns since the epoch from an RFC 3339 timestamp, nanoseconds kept; 0 when unreadable."""
    m = _RFC3339.match(text or "")
    if not m:
        return 0
    from datetime import datetime
    zone = m.group(3) if m.group(3) and m.group(3) != "Z" else "+00:00"
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0")[:9])


def human_duration(seconds):
    """"About a minute", "3 hours", "2 weeks": Go's units.HumanDuration, which docker prints."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // (24 * 7)} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // (24 * 30)} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_GO_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_go_duration(text):
    """Seconds in a Go duration ("1h30m", "10s", "250ms"), as the daemon's flags and
    filters and the client's options read them; ValueError in Go's words otherwise."""
    text = text.strip()
    pos, total = 0, 0.0
    for match in _GO_DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _GO_DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f'time: invalid duration "{text}"')
    return total
