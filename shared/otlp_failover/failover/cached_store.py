"""A state store decorator: the per-instance cache, and the write pause after a store error.

The healthy path reads the shared item at most once per ``ttl`` per instance and writes
nothing. When the store fails, the instance holds the last level it knew (level 0 if none)
for one ``ttl`` instead of asking a failing DynamoDB on every export, and skips writes for
as long: a throttled table must not add its retries to every export's time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from otlp_failover.errors import StateStoreError
from otlp_failover.failover.ports import StateStore
from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


class CachedStateStore:
    """A ``StateStore`` in front of another, adding ``current()`` and ``last_known()``."""

    def __init__(
        self, inner: StateStore, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[Signal, tuple[float, SignalState]] = {}
        self._writes_paused_until = 0.0  # on ``clock``

    def current(self, signal: Signal) -> SignalState:
        """The signal's state from the cache while fresh; never raises.

        When the store fails, the last known state is held for one ``ttl``.
        """
        cached = self._cache.get(signal)
        if cached is not None and self._clock() - cached[0] < self.ttl:
            return cached[1]
        try:
            return self.read(signal)
        except StateStoreError as exc:
            held = self._remember(signal, self.last_known(signal))
            log.warning("state unavailable, using level %d: %s", held.level, exc)
            return held

    def last_known(self, signal: Signal) -> SignalState:
        """The last state this instance saw, however old (level 0 if it saw none)."""
        cached = self._cache.get(signal)
        return cached[1] if cached else SignalState()

    def read(self, signal: Signal) -> SignalState:
        return self._remember(signal, self._guarded(lambda: self._inner.read(signal)))

    def count_failure(self, signal: Signal, level: int, epoch: float) -> SignalState:
        if self._paused():
            return self.last_known(signal)
        return self._remember(
            signal, self._guarded(lambda: self._inner.count_failure(signal, level, epoch))
        )

    def reset_failures(self, signal: Signal, level: int, epoch: float) -> SignalState:
        if self._paused():
            return self.last_known(signal)
        return self._remember(
            signal, self._guarded(lambda: self._inner.reset_failures(signal, level, epoch))
        )

    def move(
        self, signal: Signal, from_level: int, to_level: int, epoch: float
    ) -> tuple[SignalState, bool]:
        if self._paused():
            return self.last_known(signal), False
        state, moved = self._guarded(lambda: self._inner.move(signal, from_level, to_level, epoch))
        return self._remember(signal, state), moved

    def _guarded(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except StateStoreError:
            self._writes_paused_until = self._clock() + self.ttl
            raise

    def _paused(self) -> bool:
        return self._clock() < self._writes_paused_until

    def _remember(self, signal: Signal, state: SignalState) -> SignalState:
        self._cache[signal] = (self._clock(), state)
        return state
