"""Progress messages in the shapes the Engine API streams for pull and push, so the docker
CLI renders them unchanged. A callback receives each message as a dict."""

import threading
import time

BAR_WIDTH = 50
_UNITS = ("B", "kB", "MB", "GB", "TB")


def human_size(n):
    """Docker's decimal size units (``1.23MB``)."""
    n = float(n)
    for unit in _UNITS:
        if n < 1000 or unit == _UNITS[-1]:
            return f"{n:.4g}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000
    return f"{n}B"


def status(message, id=None):
    out = {"status": message}
    if id is not None:
        out["id"] = id
    return out


def progress(message, id, current, total):
    """A ``progressDetail`` message with the text bar the CLI shows on non-terminals."""
    out = {"status": message, "progressDetail": {"current": current}, "id": id}
    if total:
        out["progressDetail"]["total"] = total
        filled = min(BAR_WIDTH, int(BAR_WIDTH * current / total))
        bar = "=" * filled + (">" if filled < BAR_WIDTH else "") + " " * max(0, BAR_WIDTH - filled - 1)
        out["progress"] = f"[{bar}] {human_size(current)}/{human_size(total)}"
    else:
        out["progress"] = human_size(current)
    return out


def retrying(seconds):
    """Docker's wording while it waits to retry a transfer."""
    return f"Retrying in {seconds} second{'' if seconds == 1 else 's'}"


def aux(data):
    return {"progressDetail": {}, "aux": data}


class Reporter:
    """Serialises messages from worker threads to the caller's callback and rate-limits
    byte-count updates (one per ``interval`` seconds per id, plus the final one)."""

    def __init__(self, callback=None, interval=0.1):
        self._callback = callback
        self._interval = interval
        self._lock = threading.Lock()
        self._last = {}

    def emit(self, message):
        if self._callback is None:
            return
        with self._lock:
            self._callback(message)

    def status(self, message, id=None):
        self.emit(status(message, id))

    def bytes(self, message, id, current, total):
        now = time.monotonic()
        key = (message, id)
        last_time, last_current = self._last.get(key, (0, None))
        if current == last_current or (current != total and now - last_time < self._interval):
            return
        self._last[key] = (now, current)
        self.emit(progress(message, id, current, total))
