"""The drain's send rate, shared by every worker of a process, and the backend's pauses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Spaces sends ``1 / rate`` apart across all the threads that share it; a backend's
    Retry-After pushes every next send back, since it speaks for the whole backend."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, deadline: float) -> bool:
        """Wait for this sender's turn; False (without waiting) if it comes after ``deadline``."""
        with self._lock:
            now = self._clock()
            turn = max(now, self._next)
            if turn > deadline:
                return False
            self._next = turn + 1.0 / self.rate
        if turn > now:
            self._sleep(turn - now)
        return True

    def pause(self, seconds: float) -> None:
        """The backend asked for a pause (Retry-After): nobody sends before it ends."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)
