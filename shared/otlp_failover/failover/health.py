"""Carries the rules out against the shared state: the one place outcomes become writes.

The router and the probe report what happened; this applies ``Rules`` through the store's
named operations, counts the level moves and logs them.
"""

from __future__ import annotations

import logging

from otlp_failover.errors import StateStoreError
from otlp_failover.failover.ports import StateStore
from otlp_failover.failover.rules import CountFailure, Move, ResetFailures, Rules
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import CURRENT_LEVEL, FAILOVERS, RECOVERIES, Metrics
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)


class LevelHealth:
    def __init__(self, store: StateStore, rules: Rules, metrics: Metrics) -> None:
        self.store = store
        self.rules = rules
        self._metrics = metrics

    def record_export(
        self, signal: Signal, state: SignalState, level: int, accepted: bool
    ) -> SignalState:
        """Count an export's outcome on ``level``; the state afterwards. Never raises: a
        state store that fails only costs the count, never the export."""
        transition = self.rules.after_export(state, level, accepted)
        try:
            if isinstance(transition, ResetFailures):
                return self.store.reset_failures(signal, transition.level, transition.epoch)
            if isinstance(transition, CountFailure):
                counted = self.store.count_failure(signal, transition.level, transition.epoch)
                move = self.rules.after_count(counted)
                if isinstance(move, Move):
                    return self._move(signal, move, FAILOVERS, "failed over")[0]
                return counted
        except StateStoreError as exc:
            log.warning("could not record the outcome: %s", exc)
        return state

    def record_probe(
        self, signal: Signal, state: SignalState, level: int, accepted: bool, streak: int
    ) -> tuple[SignalState, bool]:
        """Apply a probe of ``level``, the ``streak``-th accepted in a row; ``True`` when
        this call moved the signal back up. Raises ``StateStoreError``: the probe skips the
        signal until its next pass."""
        move = self.rules.after_probe(state, level, accepted, streak)
        if not isinstance(move, Move):
            return state, False
        return self._move(signal, move, RECOVERIES, "recovered")

    def _move(self, signal: Signal, move: Move, metric: str, verb: str) -> tuple[SignalState, bool]:
        state, moved = self.store.move(signal, move.from_level, move.to_level, move.epoch)
        if moved:
            self._metrics.count(metric, signal)
            self._metrics.gauge(CURRENT_LEVEL, signal, state.level)
            log.warning(
                "%s %s from level %d to %d",
                signal,
                verb,
                move.from_level,
                state.level,
                extra={"signal": signal.value, "level": state.level},
            )
        return state, moved
