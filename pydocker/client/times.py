"""Timestamps: the API's RFC 3339 strings, and --since/--until values."""

import time
from datetime import datetime, timezone


def parse_api_time(text):
    """Seconds since the epoch for an API timestamp (RFC 3339, nanoseconds allowed);
    0 for an empty or zero time."""
    if not text or text.startswith("0001-01-01"):
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    main, frac, zone = text, "", ""
    if text.endswith("Z"):
        main, zone = text[:-1], "+00:00"
    elif len(text) > 6 and text[-6] in "+-":
        main, zone = text[:-6], text[-6:]
    if "." in main:
        main, frac = main.split(".", 1)
    stamp = datetime.fromisoformat(main + (zone or "+00:00")).timestamp()
    return stamp + (float("0." + frac) if frac else 0.0)


def since(text, now=None):
    """Seconds elapsed since an API timestamp."""
    return (now or time.time()) - parse_api_time(text)


def rfc3339_local(seconds, nanos=True):
    """Format like Go's ``2006-01-02T15:04:05.000000000Z07:00`` in local time."""
    whole = int(seconds)
    dt = datetime.fromtimestamp(whole, timezone.utc).astimezone()
    offset = dt.strftime("%z")
    zone = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    frac = f".{int(round((seconds - whole) * 1e9)):09d}" if nanos else ""
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone


def filter_timestamp(value, now=None):
    """Turn a --since/--until value into what the API accepts (unix seconds).

    Accepts unix timestamps (passed through), Go durations relative to now
    ("10m", "1h30m") and RFC 3339 dates or date-times.
    """
    from .units import parse_go_duration

    value = value.strip()
    if not value:
        return value
    try:
        float(value)
        return value
    except ValueError:
        pass
    try:
        return f"{(now or time.time()) - parse_go_duration(value):.9f}"
    except ValueError:
        pass
    try:
        if len(value) == 10:
            return str(int(datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp()))
        return f"{parse_api_time(value):.9f}"
    except ValueError:
        raise ValueError(f"invalid timestamp {value!r}") from None
