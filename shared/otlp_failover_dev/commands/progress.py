"""A one-line progress bar on stderr (redrawn in place on a terminal, plain lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, total: int, label: str, stream: TextIO = sys.stderr, width: int = 30):
        self.total = max(total, 0)
        self.label = label
        self._stream = stream
        self._width = width
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._tty = stream.isatty()

    def update(self, done: int, detail: str = "") -> None:
        now = time.monotonic()
        if self._tty and now - self._last_draw < 0.1 and done < self.total:
            return  # redraw at most ten times a second
        self._last_draw = now
        fraction = min(1.0, done / self.total) if self.total else 1.0
        filled = round(fraction * self._width)
        rate = done / max(now - self._started, 1e-9)
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self._width - filled)}] "
            f"{done}/{self.total} {fraction:4.0%} {rate:,.0f}/s {detail}".rstrip()
        )
        if self._tty:
            self._stream.write("\r" + line + "\x1b[K")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
