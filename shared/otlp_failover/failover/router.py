"""Carries one export down the priority levels until a level accepts it.

The same request goes on to level L+1 inside the same invocation when level L fails, so
nothing waits for the shared level to switch. Only the current level's outcomes count
toward a switch (``LevelHealth``). If the state store is unavailable the router starts
from the last level it knew and still falls through: the state is an optimisation of
where to start, never a reason to drop data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from otlp_failover.codec import ExportBody
from otlp_failover.failover.cached_store import CachedStateStore
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import ExportResult, Outcome, RouteResult, Verdict
from otlp_failover.metrics import (
    BACKUP_BYTES,
    BACKUP_WRITES,
    EXPORT_FAILURES,
    EXPORTS_ACCEPTED,
    EXPORTS_REFUSED,
    Metrics,
)
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

# Time kept back for each lower level, so a slow primary cannot eat the backup's chance.
LEVEL_RESERVE_SECONDS = 2.0


class FailoverRouter:
    def __init__(
        self,
        levels: Sequence[Level],
        state: CachedStateStore,
        health: LevelHealth,
        metrics: Metrics,
    ) -> None:
        self.levels = tuple(levels)
        self.state = state  # public: tools read what an instance last knew
        self._health = health
        self._metrics = metrics

    def route(self, body: ExportBody, deadline: float) -> RouteResult:
        """Try the levels from the current one down; the first that accepts answers."""
        signal = body.signal
        state = self.state.current(signal)
        failures: list[ExportResult] = []
        start = min(state.level, len(self.levels) - 1)
        for level in self.levels[start:]:
            lower_levels = len(self.levels) - 1 - level.index
            result = level.export(body, deadline - LEVEL_RESERVE_SECONDS * lower_levels)
            if result.outcome is Outcome.REJECTED:
                if level.index == 0 or lower_levels == 0:
                    # The primary's verdict on a payload is final (so is the backup's); it is
                    # the payload's fault and counts for nothing.
                    return RouteResult(Verdict.REJECTED, result, state, None, tuple(failures))
                # A fallback backend with stricter rules than the primary: keep the data.
                failures.append(result)
                continue
            state = self._health.record_export(signal, state, level.index, result.accepted)
            if result.accepted:
                self._count_acceptance(signal, level.index, result)
                return RouteResult(Verdict.ACCEPTED, result, state, level.index, tuple(failures))
            failures.append(result)
            self._metrics.count(EXPORT_FAILURES, signal, level=level.index)
            log.warning(
                "export failed on level %d (%s): %s",
                level.index,
                level.name,
                result.reason,
                extra={"signal": signal.value, "level": level.index},
            )
        self._metrics.count(EXPORTS_REFUSED, signal)
        return RouteResult(Verdict.EXHAUSTED, failures[-1], state, None, tuple(failures))

    def _count_acceptance(self, signal: Signal, level: int, result: ExportResult) -> None:
        self._metrics.count(EXPORTS_ACCEPTED, signal, level=level)
        if result.stored_bytes:
            self._metrics.count(BACKUP_WRITES, signal)
            self._metrics.count(BACKUP_BYTES, signal, result.stored_bytes)
