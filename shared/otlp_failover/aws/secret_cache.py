"""One secret's value, re-read every ``ttl`` and kept through Secrets Manager's bad moments.

    fresh (read less than ttl ago)      served from memory
    stale, the read succeeds            the new value
    stale, the read fails               the last good value, with a warning (never the value)
    never read well, the read fails     SecretError, and no new read for a little while

A failed read is not tried again before ``FAILED_READ_RETRY`` seconds, so an outage of
Secrets Manager costs one slow call per instance now and then, not one per export. A forced
read (the backend refused the headers) skips the TTL, at most once per ``FORCED_READ_GAP``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from otlp_failover.errors import SecretError

T = TypeVar("T")

FAILED_READ_RETRY = 10.0  # seconds between reads while Secrets Manager fails
FORCED_READ_GAP = 1.0  # a burst of 401s re-reads the secret once, not once per export

log = logging.getLogger(__name__)


class CachedSecret(Generic[T]):
    """``load()`` reads and parses the secret, raising ``SecretError`` (never its value)."""

    def __init__(
        self,
        name: str,
        load: Callable[[], T],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name  # for the logs: the secret's short name, never its value
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._good: tuple[T, float] | None = None  # the last good value and when it was read
        self._error = ""  # why the last read failed, while there is no good value
        self._next_read = float("-inf")
        self._last_forced = float("-inf")
        self._lock = threading.Lock()  # one read at a time; the others wait for its value

    def get(self, *, force: bool = False) -> T:
        with self._lock:
            now = self._clock()
            if force and now - self._last_forced >= FORCED_READ_GAP:
                self._last_forced = now
            elif now < self._next_read:
                return self._held()
            try:
                value = self._load()
            except SecretError as exc:
                return self._keep(exc, now)
            self._good, self._error = (value, now), ""
            self._next_read = now + self._ttl
            return value

    def _keep(self, exc: SecretError, now: float) -> T:
        self._next_read = now + min(self._ttl, FAILED_READ_RETRY)
        if self._good is None:
            self._error = str(exc)
            return self._held()
        log.warning("%s; using the value read %.0f s ago", exc, now - self._good[1])
        return self._good[0]

    def _held(self) -> T:
        if self._good is None:
            raise SecretError(self._error or f"secret {self.name} was not read")
        return self._good[0]
