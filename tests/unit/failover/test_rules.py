"""The failover rules, stepped through transitions: pure data in, a transition out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from otlp_failover.failover.rules import (
    STAY,
    CountFailure,
    Move,
    ResetFailures,
    Rules,
)
from otlp_failover.failover.state import SignalState

RULES = Rules(max_retries=3, level_count=3, probe_successes=2)
EPOCH = 1_800_000_000.5  # when the signal last moved


def fail(state: SignalState) -> SignalState:
    """One failure on the current level, applied as the store does (count, then maybe move)."""
    transition = RULES.after_export(state, state.level, accepted=False)
    assert transition == CountFailure(state.level, state.changed_at)
    counted = replace(state, failures=state.failures + 1)
    move = RULES.after_count(counted)
    if isinstance(move, Move):
        return SignalState(level=move.to_level)
    return counted


def test_level_0_stays_after_2_consecutive_failures() -> None:
    assert fail(fail(SignalState())) == SignalState(level=0, failures=2)


def test_level_0_to_1_after_3_consecutive_failures() -> None:
    assert fail(fail(fail(SignalState()))) == SignalState(level=1, failures=0)


def test_the_move_names_the_level_and_the_epoch_it_was_decided_at() -> None:
    assert RULES.after_count(SignalState(1, 3, EPOCH)) == Move(1, 2, EPOCH)


def test_counts_and_resets_name_the_epoch_of_the_state_they_were_decided_on() -> None:
    state = SignalState(1, 2, EPOCH)
    assert RULES.after_export(state, 1, accepted=False) == CountFailure(1, EPOCH)
    assert RULES.after_export(state, 1, accepted=True) == ResetFailures(1, EPOCH)


def test_last_level_never_moves_past_the_end() -> None:
    assert RULES.after_count(SignalState(level=2, failures=50)) is STAY


def test_success_resets_a_partial_count() -> None:
    state = SignalState(level=0, failures=2)
    assert RULES.after_export(state, 0, accepted=True) == ResetFailures(0, 0.0)


def test_healthy_path_writes_nothing() -> None:
    assert RULES.after_export(SignalState(), 0, accepted=True) is STAY


@pytest.mark.parametrize("accepted", [True, False])
def test_outcomes_on_other_levels_count_for_nothing(accepted: bool) -> None:
    state = SignalState(level=1, failures=1)
    assert RULES.after_export(state, 2, accepted) is STAY
    assert RULES.after_export(state, 0, accepted) is STAY


def test_interleaved_success_breaks_the_consecutive_run() -> None:
    state = fail(fail(SignalState()))
    assert RULES.after_export(state, 0, accepted=True) == ResetFailures(0, 0.0)
    state = fail(fail(replace(state, failures=0)))
    assert state.level == 0


def test_level_2_to_0_when_the_primary_passed_probe_successes_probes_in_a_row() -> None:
    state = SignalState(2, 4, EPOCH)
    assert RULES.after_probe(state, 0, accepted=True, streak=2) == Move(2, 0, EPOCH)
    assert RULES.after_probe(state, 0, accepted=True, streak=5) == Move(2, 0, EPOCH)


def test_one_lucky_probe_below_probe_successes_changes_nothing() -> None:
    assert RULES.after_probe(SignalState(level=2), 0, accepted=True, streak=1) is STAY


def test_with_probe_successes_1_the_first_accepted_probe_moves() -> None:
    eager = Rules(max_retries=3, level_count=3, probe_successes=1)
    assert eager.after_probe(SignalState(level=1), 0, accepted=True, streak=1) == Move(1, 0, 0.0)


def test_a_failed_probe_changes_nothing() -> None:
    assert RULES.after_probe(SignalState(level=1), 0, accepted=False, streak=0) is STAY


def test_a_probe_of_the_current_or_a_lower_level_changes_nothing() -> None:
    assert RULES.after_probe(SignalState(level=1), 1, accepted=True, streak=9) is STAY
    assert RULES.after_probe(SignalState(level=1), 2, accepted=True, streak=9) is STAY


def test_a_single_level_chain_only_counts() -> None:
    single = Rules(max_retries=1, level_count=1)
    assert single.after_count(SignalState(failures=9)) is STAY
