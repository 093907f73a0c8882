"""Docker's timestamps: RFC 3339 with nanoseconds, and ns since the epoch."""

import re
import time
from datetime import datetime

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
    zone = m.group(3) if m.group(3) and m.group(3) != "Z" else "+00:00"
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0")[:9])
