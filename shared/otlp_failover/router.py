"""Carries one export down the priority levels until a level accepts it.

The same request goes on to level L+1 inside the same invocation when level L fails, so
nothing waits for the shared level to switch. Only the current level's outcomes feed the
policy; the store applies its decisions. If DynamoDB is unavailable the router keeps
serving with the last level it knew (or level 0) and still falls through: the state is an
optimisation of where to start, never a reason to drop data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from otlp_failover.codec import ExportBody
from otlp_failover.errors import StateStoreError
from otlp_failover.exporters import Exporter, ExportResult, Outcome
from otlp_failover.policy import Action, Policy, SignalState
from otlp_failover.signals import Signal
from otlp_failover.state_store import DynamoDBStateStore
from otlp_failover.telemetry import (
    BACKUP_BYTES,
    BACKUP_WRITES,
    CURRENT_LEVEL,
    EXPORT_FAILURES,
    EXPORTS_ACCEPTED,
    EXPORTS_REFUSED,
    FAILOVERS,
    Telemetry,
)

log = logging.getLogger(__name__)

# Time kept back for each lower level, so a slow primary cannot eat the backup's chance.
LEVEL_RESERVE_SECONDS = 2.0


@dataclass(frozen=True)
class Level:
    index: int
    exporters: tuple[Exporter, ...]

    @property
    def name(self) -> str:
        return "+".join(exporter.name for exporter in self.exporters)

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        """Accepted only when every exporter accepts; the first exporter's answer is kept."""
        first: ExportResult | None = None
        for exporter in self.exporters:
            result = exporter.export(body, deadline, retry=retry)
            if not result.accepted:
                return result
            first = first or result
        assert first is not None  # a level has at least one exporter (config validates it)
        return first


@dataclass(frozen=True)
class RouteResult:
    result: ExportResult  # the answer that decided: an acceptance, a rejection or the last failure
    level: int | None  # the level that accepted, or None
    state: SignalState  # the signal's state after this export
    failures: list[ExportResult] = field(default_factory=list)


class FailoverRouter:
    def __init__(
        self,
        levels: Sequence[Level],
        store: DynamoDBStateStore,
        policy: Policy,
        *,
        wall_clock: Callable[[], float] = time.time,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.levels = tuple(levels)
        self._store = store
        self._policy = policy
        self._wall_clock = wall_clock
        self._clock = clock
        # After a state-store error, no writes until this instant (monotonic): a throttled
        # DynamoDB must not add its retries to every export's time.
        self._writes_paused_until = 0.0
        self._telemetry = telemetry or Telemetry("unused", emit=lambda _: None)

    def route(self, body: ExportBody, deadline: float) -> RouteResult:
        """Try the levels from the current one down; the first that accepts answers."""
        signal = body.signal
        state = self._current(signal)
        failures: list[ExportResult] = []
        start = min(state.level, len(self.levels) - 1)
        for level in self.levels[start:]:
            lower_levels = len(self.levels) - 1 - level.index
            result = level.export(body, deadline - LEVEL_RESERVE_SECONDS * lower_levels)
            if result.outcome is Outcome.REJECTED:
                if level.index == 0 or lower_levels == 0:
                    # The primary's verdict on a payload is final (so is the backup's); it is
                    # the payload's fault and counts for nothing.
                    return RouteResult(result, None, state, failures)
                # A fallback backend with stricter rules than the primary: keep the data.
                failures.append(result)
                continue
            state = self._record(signal, state, level.index, result.accepted)
            if result.accepted:
                self._count_acceptance(signal, level.index, result)
                return RouteResult(result, level.index, state, failures)
            failures.append(result)
            self._telemetry.count(EXPORT_FAILURES, signal, level=level.index)
            log.warning(
                "export failed on level %d (%s): %s",
                level.index,
                level.name,
                result.reason,
                extra={"signal": signal.value, "level": level.index},
            )
        self._telemetry.count(EXPORTS_REFUSED, signal)
        return RouteResult(failures[-1], None, state, failures)

    def _count_acceptance(self, signal: Signal, level: int, result: ExportResult) -> None:
        self._telemetry.count(EXPORTS_ACCEPTED, signal, level=level)
        if result.stored_bytes:
            self._telemetry.count(BACKUP_WRITES, signal)
            self._telemetry.count(BACKUP_BYTES, signal, result.stored_bytes)

    def _current(self, signal: Signal) -> SignalState:
        try:
            return self._store.get(signal)
        except StateStoreError as exc:
            # Hold the last known level for one cache interval instead of asking a failing
            # DynamoDB again on every export.
            fallback = self._store.remember(signal, self._store.cached(signal) or SignalState())
            self._pause_writes()
            log.warning("state unavailable, using level %d: %s", fallback.level, exc)
            return fallback

    def _pause_writes(self) -> None:
        self._writes_paused_until = self._clock() + self._store.cache_ttl

    def _record(
        self, signal: Signal, state: SignalState, level: int, accepted: bool
    ) -> SignalState:
        decision = self._policy.after_export(state, level, accepted)
        if not decision.writes or self._clock() < self._writes_paused_until:
            return state
        try:
            stored, _ = self._store.apply(signal, decision)
            if decision.action is Action.COUNT_FAILURE:
                move = self._policy.after_count(stored, self._wall_clock())
                stored, moved = self._store.apply(signal, move)
                if moved:
                    self._telemetry.count(FAILOVERS, signal)
                    self._telemetry.gauge(CURRENT_LEVEL, signal, stored.level)
                    log.warning(
                        "%s failed over from level %d to %d",
                        signal,
                        move.expected_level,
                        stored.level,
                        extra={"signal": signal.value, "level": stored.level},
                    )
        except StateStoreError as exc:
            self._pause_writes()
            log.warning("could not record the outcome: %s", exc)
            return state
        return stored
