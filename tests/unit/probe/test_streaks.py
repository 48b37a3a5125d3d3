"""Streaks: consecutive probe successes per signal and level, within one state epoch."""

from __future__ import annotations

from otlp_failover.failover.state import SignalState
from otlp_failover.probe.streaks import Streaks
from otlp_failover.signals import Signal

TRACES, LOGS = Signal.TRACES, Signal.LOGS
ON_2 = SignalState(2, 0, changed_at=1_800_000_000.0)


def test_successes_add_up_and_a_failure_ends_the_streak() -> None:
    streaks = Streaks()
    assert [streaks.record(TRACES, ON_2, 0, up) for up in (True, True, False, True)] == [
        1,
        2,
        0,
        1,
    ]


def test_each_level_and_each_signal_keeps_its_own_streak() -> None:
    streaks = Streaks()
    streaks.record(TRACES, ON_2, 0, True)
    assert streaks.record(TRACES, ON_2, 1, True) == 1
    assert streaks.record(LOGS, ON_2, 0, True) == 1
    assert streaks.record(TRACES, ON_2, 0, True) == 2


def test_a_new_epoch_starts_every_streak_of_the_signal_again() -> None:
    streaks = Streaks()
    streaks.record(TRACES, ON_2, 0, True)
    moved_again = SignalState(2, 0, changed_at=ON_2.changed_at + 60)  # failed over again
    assert streaks.record(TRACES, moved_again, 0, True) == 1
    assert streaks.record(TRACES, SignalState(1, 0, ON_2.changed_at), 0, True) == 1
