"""Human-readable sizes and durations, and size parsing, as docker's go-units does."""

import re


_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scaled(size, base, units):
    size = float(size)
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def _g(value, precision):
    """Go's ``%.<p>g``: Python's is the same except for the exponent's digits."""
    return f"{value:.{precision}g}".replace("e+0", "e+").replace("e-0", "e-")


def human_size(size, precision=3):
    """Decimal units: 4264960 -> "4.26MB" (what `docker images` shows)."""
    value, unit = _scaled(size, 1000.0, _DECIMAL)
    return _g(value, precision) + unit


def bytes_size(size):
    """Binary units: 1048576 -> "1MiB" (what `docker stats` shows)."""
    value, unit = _scaled(size, 1024.0, _BINARY)
    return _g(value, 4) + unit


_RAM = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_MULT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text):
    """Parse "512m", "1g", "1024" into bytes (binary multiples), or raise ValueError."""
    match = _RAM.match(text.strip())
    if not match:
        raise ValueError(f"invalid size: '{text}'")
    return int(float(match.group(1)) * _MULT[(match.group(2) or "").lower()])


