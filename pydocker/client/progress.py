"""Rendering of JSON progress streams (pull, push, load, import) like the docker CLI.

On a terminal each layer (message ``id``) owns a line that is rewritten in
place with a progress bar; elsewhere progress updates are dropped and only
status changes are printed, one per line. An ``error``/``errorDetail``
message ends the stream with a StreamError.
"""

import os

from .errors import StreamError
from .units import human_size


def progress_text(detail, width=200):
    """The bar and numbers for a ``progressDetail`` (``{"current", "total"}``)."""
    current = (detail or {}).get("current", 0) or 0
    total = (detail or {}).get("total", 0) or 0
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(int(current / total * 100) // 2, 50)
    bar = f"[{'=' * filled}>{' ' * (50 - filled)}] " if width > 110 else ""
    numbers = f"{human_size(current):>8}/{human_size(total)}" if current <= total else ""
    return bar + numbers


class ProgressPrinter:
    """Feeds messages one by one; ``tty`` selects in-place updates."""

    def __init__(self, out, tty=None):
        self.out = out
        if tty is None:
            try:
                tty = os.isatty(out.fileno())
            except (AttributeError, OSError, ValueError):
                tty = False
        self.tty = tty
        self._lines = {}  # layer id -> line index, for in-place updates

    def feed(self, message):
        if message.get("errorDetail") or message.get("error"):
            detail = message.get("errorDetail") or {}
            raise StreamError(detail.get("message") or message.get("error"))
        progress = progress_text(message.get("progressDetail"))
        has_progress = bool(progress or message.get("progress"))
        layer = message.get("id")
        diff = 0
        if layer and has_progress:
            if layer not in self._lines:
                self._lines[layer] = len(self._lines)
                if self.tty:
                    self.out.write("\n")
            diff = len(self._lines) - self._lines[layer]
            if self.tty:
                self.out.write(f"\x1b[{diff}A")
        else:
            self._lines = {}
        self._display(message, progress)
        if layer and self.tty and diff:
            self.out.write(f"\x1b[{diff}B")
        self.out.flush()

    def _display(self, message, progress):
        endl = "\n"
        status = message.get("status", "")
        if self.tty and not message.get("stream") and (progress or message.get("progress")):
            self.out.write("\x1b[2K\r")
            endl = "\r"
        elif progress and not self.tty:
            return
        text = f"{message['id']}: " if message.get("id") else ""
        if self.tty and progress:
            text += f"{status} {progress}{endl}"
        elif message.get("progress"):
            text += f"{status} {message['progress']}{endl}"
        elif message.get("stream"):
            text += message["stream"] + ("" if endl == "\n" else endl)
            self.out.write(text)
            return
        elif message.get("status") is None and message.get("aux") is not None:
            return
        else:
            text += status + ("\n" if endl == "\n" else endl + "\n")
        self.out.write(text)


def display_stream(messages, out, tty=None, quiet=False):
    """Render every message; with ``quiet`` only check them for errors.
    Returns the ``aux`` payloads seen (load and push report results there)."""
    printer = ProgressPrinter(out, tty)
    aux = []
    for message in messages:
        if message.get("aux") is not None:
            aux.append(message["aux"])
        if quiet:
            if message.get("errorDetail") or message.get("error"):
                printer.feed(message)
            continue
        printer.feed(message)
    return aux
