"""Checking a driver's ``--storage-opt`` keys at start-up."""

import re

from pydocker.errdefs import InvalidParameter

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def check_known(driver, options, known):
    """Refuse option keys the driver does not understand, naming them."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        hint = f"; it accepts {', '.join(sorted(known))}" if known else "; it accepts none"
        raise InvalidParameter(f"unknown storage option(s) for {driver}: {', '.join(unknown)}{hint}")


def parse_size(key, value):
    """'10G', '512m', '100000' -> bytes (binary units, as Docker's RAMInBytes)."""
    match = _SIZE.match(value)
    if not match:
        raise InvalidParameter(f"storage option {key}: {value!r} is not a size like 10G or 512M")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def parse_bool(key, value):
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidParameter(f"storage option {key}: {value!r} is not a boolean")
