"""Timestamps: the API's RFC 3339 strings, and --since/--until values.

Parsed by hand rather than with ``datetime``, whose import would cost more
than the parsing: list commands format a timestamp per row.
"""

import time


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_api_time(text):
    """Seconds since the epoch for an RFC 3339 timestamp (nanoseconds allowed)
    or a number; 0 for an empty or zero time. Raises ValueError."""
    if isinstance(text, (int, float)):
        return float(text)
    if not text or text.startswith("0001-01-01"):
        return 0.0
    try:
        date, _, clock = text.replace("t", "T").partition("T")
        year, month, day = (int(p) for p in date.split("-"))
        offset = 0
        if clock.endswith(("Z", "z")):
            clock = clock[:-1]
        elif len(clock) > 6 and clock[-6] in "+-":
            sign = 1 if clock[-6] == "+" else -1
            offset = sign * (int(clock[-5:-3]) * 3600 + int(clock[-2:]) * 60)
            clock = clock[:-6]
        hms, _, frac = (clock or "00:00:00").partition(".")
        hour, minute, second = (int(p) for p in hms.split(":"))
    except ValueError:
        raise ValueError(f"invalid timestamp {text!r}") from None
    whole = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return whole - offset + (float("0." + frac) if frac else 0.0)


def since(text, now=None):
    """Seconds elapsed since an API timestamp."""
    return (now or time.time()) - parse_api_time(text)


def rfc3339_local(seconds, nanos=0):
    """Format like Go's ``2006-01-02T15:04:05.000000000Z07:00`` in local time.

    ``seconds`` is whole seconds; ``nanos`` the fraction, kept as an integer so
    event timestamps print exactly."""
    local = time.localtime(seconds)
    offset = local.tm_gmtoff or 0
    if offset == 0:
        zone = "Z"
    else:
        sign = "+" if offset > 0 else "-"
        zone = f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f".{nanos:09d}" + zone


def filter_timestamp(value, now=None):
    """Turn a --since/--until value into what the API accepts (unix seconds).

    Accepts unix timestamps (passed through), Go durations relative to now
    ("10m", "1h30m") and RFC 3339 dates or date-times (UTC when no zone).
    """
    from pydocker.timeutil import parse_go_duration

    value = value.strip()
    try:
        float(value)
        return value
    except ValueError:
        pass
    try:
        return f"{(now or time.time()) - parse_go_duration(value):.9f}"
    except ValueError:
        pass
    if len(value) == 10:
        value += "T00:00:00Z"
    stamp = parse_api_time(value)
    return f"{stamp:.9f}".rstrip("0").rstrip(".")
