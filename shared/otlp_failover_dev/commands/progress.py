"""Progress bars on stderr (redrawn in place on a terminal, plain lines otherwise): one bar,
or a block of bars, one per label."""

from __future__ import annotations

import sys
import threading
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


class ProgressBars:
    """One bar per label, drawn as a block of lines (redrawn in place on a terminal, a plain
    line per change otherwise). Safe to update from several threads."""

    def __init__(self, totals: dict[str, int], stream: TextIO = sys.stderr, width: int = 30):
        self._stream = stream
        self._tty = stream.isatty()
        self._width = width
        self._totals = dict(totals)
        self._done = dict.fromkeys(totals, 0)
        self._detail = dict.fromkeys(totals, "")
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False
        self._lock = threading.Lock()
        self._label_width = max((len(label) for label in totals), default=0)

    def update(self, label: str, done: int, detail: str = "") -> None:
        with self._lock:
            self._done[label], self._detail[label] = done, detail
            now = time.monotonic()
            if self._tty and now - self._last_draw < 0.1 and done < self._totals[label]:
                return  # redraw at most ten times a second
            self._last_draw = now
            if self._tty:
                self._draw_block(now)
            else:
                self._stream.write(self._line(label, now) + "\n")
            self._stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._tty:
                self._draw_block(time.monotonic())
                self._stream.flush()

    def _draw_block(self, now: float) -> None:
        if self._drawn:
            self._stream.write(f"\x1b[{len(self._totals)}F")  # back to the block's first line
        for label in self._totals:
            self._stream.write(self._line(label, now) + "\x1b[K\n")
        self._drawn = True

    def _line(self, label: str, now: float) -> str:
        total, done = self._totals[label], self._done[label]
        fraction = min(1.0, done / total) if total else 1.0
        filled = round(fraction * self._width)
        rate = done / max(now - self._started, 1e-9)
        return (
            f"{label:<{self._label_width}} [{'#' * filled}{'.' * (self._width - filled)}] "
            f"{done}/{total} {fraction:4.0%} {rate:,.0f}/s {self._detail[label]}".rstrip()
        )
