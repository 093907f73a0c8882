"""Go's text forms of values, as dockerd writes them into an image's history (``%q`` of a
[]string, ``%v``, time.Duration's String(), a rune), and Go's duration syntax read back."""

import json

from pydocker.errdefs import InvalidParameter
from pydocker.timeutil import parse_go_duration


def go_quote_list(values):
    """A Go ``%q`` of a []string, as dockerd writes CMD and ENTRYPOINT into the history."""
    return "[" + " ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def go_list(values):
    """A Go ``%v`` of a []string."""
    return "[" + " ".join(values) + "]"


def go_duration(ns):
    """A Go time.Duration's String(): 0s, 500ms, 30s, 1m30s, 1h0m0s."""
    if ns == 0:
        return "0s"
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return f"{ns / size:g}{unit}"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = f"{rest / 10**9:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    return f"{minutes}m{seconds}" if minutes else seconds


def go_rune(n):
    """Go's %q of an int: a quoted rune ('\x00', 'a')."""
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
    if n in named:
        return f"'{named[n]}'"
    if 32 <= n < 127:
        return "'\\''" if n == 39 else f"'{chr(n)}'"
    return f"'\\x{n:02x}'" if n < 256 else f"'\\u{n:04x}'"


def go_healthcheck(check):
    """HEALTHCHECK's history text: Go's %q of dockerd's HealthConfig struct."""
    durations = " ".join(f'"{go_duration(check.get(key) or 0)}"' for key in ("Interval", "Timeout", "StartPeriod"))
    return f"&{{{go_quote_list(check['Test'])} {durations} {go_rune(check.get('Retries') or 0)}}}"


def parse_duration(text, flag):
    """A Go duration ("30s", "1m30s") in nanoseconds."""
    if text in ("", "0"):
        return 0
    try:
        return round(parse_go_duration(text) * 1e9)
    except ValueError:
        raise InvalidParameter(f"time: invalid duration \"{text}\" for --{flag}") from None
