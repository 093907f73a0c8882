"""Signal names as Docker accepts them: KILL, SIGKILL, 9."""

import signal

from pydocker.errdefs import InvalidParameter


def parse_signal(text, default=signal.SIGKILL):
    if text in (None, ""):
        return int(default)
    text = str(text).strip()
    if text.isdigit():
        number = int(text)
        if not 0 < number < signal.NSIG:
            raise InvalidParameter(f"Invalid signal: {text}")
        return number
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(getattr(signal.Signals, name))
    except AttributeError:
        raise InvalidParameter(f"Invalid signal: {text}") from None
