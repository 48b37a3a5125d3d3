"""LevelHealth: outcomes become the store's named writes, moves are counted and gauged."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from otlp_failover.errors import StateStoreError
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.rules import Rules
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import CURRENT_LEVEL, FAILOVERS, RECOVERIES
from otlp_failover.signals import Signal
from tests.unit.fakes import MemoryStateStore, RecordingMetrics

TRACES = Signal.TRACES
E0, E2 = 1_800_000_000.0, 1_800_000_120.0  # epochs: two moves apart


@dataclass
class Health:
    health: LevelHealth
    store: MemoryStateStore
    metrics: RecordingMetrics

    def export(self, state: SignalState, level: int, accepted: bool) -> SignalState:
        return self.health.record_export(TRACES, state, level, accepted)

    def ops(self) -> list[str]:
        return [op for op, _, _ in self.store.writes()]


def on(state: SignalState) -> Health:
    """LevelHealth over a store that holds ``state`` for traces."""
    store, metrics = MemoryStateStore({TRACES: state}), RecordingMetrics()
    rules = Rules(max_retries=3, level_count=3, probe_successes=2)
    return Health(LevelHealth(store, rules, metrics), store, metrics)


def test_level_0_stays_and_writes_nothing_on_a_healthy_export() -> None:
    h = on(SignalState())
    assert h.export(SignalState(), 0, accepted=True) == SignalState()
    assert h.ops() == []


def test_level_0_failure_is_counted_in_the_store() -> None:
    h = on(SignalState(0, 1))
    assert h.export(SignalState(0, 1), 0, accepted=False) == SignalState(0, 2)
    assert h.store.states[TRACES] == SignalState(0, 2)


def test_level_0_to_1_after_3_consecutive_failures_is_counted_and_gauged() -> None:
    h = on(SignalState(0, 2))
    after = h.export(SignalState(0, 2), 0, accepted=False)
    assert after.level == 1 and h.store.states[TRACES].level == 1
    assert h.ops() == ["count_failure", "move"]
    assert h.metrics.total(FAILOVERS, TRACES) == 1
    assert h.metrics.gauged(CURRENT_LEVEL, TRACES) == [1]


def test_level_2_stays_on_the_last_level_however_many_failures() -> None:
    h = on(SignalState(2, 9))
    assert h.export(SignalState(2, 9), 2, accepted=False) == SignalState(2, 10)
    assert h.ops() == ["count_failure"]


def test_level_1_success_resets_a_partial_count() -> None:
    h = on(SignalState(1, 2))
    assert h.export(SignalState(1, 2), 1, accepted=True) == SignalState(1, 0)
    assert h.store.writes() == [("reset_failures", TRACES, (1, 0.0))]


@pytest.mark.parametrize("accepted", [True, False])
def test_level_1_outcomes_on_another_level_write_nothing(accepted: bool) -> None:
    h = on(SignalState(1, 2))
    assert h.export(SignalState(1, 2), 2, accepted) == SignalState(1, 2)
    assert h.ops() == []


def test_a_store_error_costs_the_count_but_never_raises() -> None:
    h = on(SignalState(0, 2))
    h.store.failing = True
    state = SignalState(0, 2)
    assert h.export(state, 0, accepted=False) is state
    assert h.metrics.counts == []


def test_a_lost_move_race_counts_no_failover() -> None:
    h = on(SignalState(0, 2))
    h.store.before_next("move", lambda: h.store.states.update({TRACES: SignalState(1)}))
    assert h.export(SignalState(0, 2), 0, accepted=False) == SignalState(1)
    assert h.metrics.counts == [] and h.metrics.gauges == []


def test_a_failover_decided_before_a_recovery_does_not_fail_the_healthy_level_again() -> None:
    # The third failure was counted at epoch E0; before its move lands, another instance
    # failed the signal over (E1) and the probe brought it back (E2). The late move is void.
    h = on(SignalState(0, 2, E0))
    h.store.before_next("move", lambda: h.store.states.update({TRACES: SignalState(0, 0, E2)}))
    assert h.export(SignalState(0, 2, E0), 0, accepted=False) == SignalState(0, 0, E2)
    assert h.store.states[TRACES] == SignalState(0, 0, E2)
    assert h.store.writes() == [("count_failure", TRACES, (0, E0)), ("move", TRACES, (0, 1, E0))]
    assert h.metrics.total(FAILOVERS, TRACES) == 0


def test_a_failure_seen_before_a_recovery_is_not_counted_after_it() -> None:
    h = on(SignalState(0, 0, E2))  # recovered at E2; the export started while at E0
    assert h.export(SignalState(0, 2, E0), 0, accepted=False) == SignalState(0, 0, E2)
    assert h.store.states[TRACES] == SignalState(0, 0, E2)


def test_level_2_to_0_on_a_confirmed_probe_counts_a_recovery() -> None:
    h = on(SignalState(2, 0, E0))
    state, moved = h.health.record_probe(TRACES, SignalState(2, 0, E0), 0, True, streak=2)
    assert moved and state.level == 0 and h.store.states[TRACES].level == 0
    assert state.changed_at > E0  # a new epoch
    assert h.store.writes() == [("move", TRACES, (2, 0, E0))]
    assert h.metrics.total(RECOVERIES, TRACES) == 1


@pytest.mark.parametrize(("accepted", "streak"), [(True, 1), (False, 0)])
def test_level_2_stays_on_a_first_success_or_a_failed_probe_and_writes_nothing(
    accepted: bool, streak: int
) -> None:
    h = on(SignalState(2))
    result = h.health.record_probe(TRACES, SignalState(2), 0, accepted, streak)
    assert result == (SignalState(2), False)
    assert h.ops() == []


def test_a_store_error_on_a_probe_move_raises() -> None:
    h = on(SignalState(1))
    h.store.failing = True
    with pytest.raises(StateStoreError):
        h.health.record_probe(TRACES, SignalState(1), 0, True, streak=2)
