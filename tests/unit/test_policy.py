"""The failover state machine, stepped through transitions with an injected clock."""

from __future__ import annotations

import pytest

from otlp_failover.policy import Action, Policy, SignalState

POLICY = Policy(max_retries=3, level_count=3)
NOW = 1_700_000_000.0


def fail(state: SignalState) -> SignalState:
    """One failure on the current level as the store would apply it (count, then maybe move)."""
    counted = POLICY.after_export(state, state.level, accepted=False)
    assert counted.action is Action.COUNT_FAILURE
    move = POLICY.after_count(counted.new_state, NOW)
    return move.new_state


def test_level_0_stays_after_2_consecutive_failures() -> None:
    state = fail(fail(SignalState()))
    assert state == SignalState(level=0, failures=2)


def test_level_0_to_1_after_3_consecutive_failures() -> None:
    state = fail(fail(fail(SignalState())))
    assert state == SignalState(level=1, failures=0, changed_at=NOW)


def test_the_move_is_conditional_on_the_level_it_was_decided_at() -> None:
    decision = POLICY.after_count(SignalState(level=1, failures=3), NOW)
    assert decision.action is Action.FAIL_OVER
    assert decision.expected_level == 1
    assert decision.new_state.level == 2


def test_last_level_never_moves_past_the_end() -> None:
    decision = POLICY.after_count(SignalState(level=2, failures=50), NOW)
    assert decision.action is Action.NONE


def test_success_resets_a_partial_count() -> None:
    decision = POLICY.after_export(SignalState(level=0, failures=2), 0, accepted=True)
    assert decision.action is Action.RESET_FAILURES
    assert decision.new_state == SignalState(level=0, failures=0)


def test_healthy_path_writes_nothing() -> None:
    decision = POLICY.after_export(SignalState(), 0, accepted=True)
    assert not decision.writes


@pytest.mark.parametrize("accepted", [True, False])
def test_outcomes_on_other_levels_count_for_nothing(accepted: bool) -> None:
    state = SignalState(level=1, failures=1)
    assert not POLICY.after_export(state, 2, accepted).writes
    assert not POLICY.after_export(state, 0, accepted).writes


def test_interleaved_success_breaks_the_consecutive_run() -> None:
    state = fail(fail(SignalState()))
    state = POLICY.after_export(state, 0, accepted=True).new_state
    state = fail(fail(state))
    assert state.level == 0


def test_level_2_to_0_when_the_probe_finds_the_primary_healthy() -> None:
    decision = POLICY.after_probe(SignalState(level=2, failures=4), 0, accepted=True, now=NOW)
    assert decision.action is Action.RECOVER
    assert decision.expected_level == 2
    assert decision.new_state == SignalState(level=0, failures=0, changed_at=NOW)


def test_a_failed_probe_changes_nothing() -> None:
    assert not POLICY.after_probe(SignalState(level=1), 0, accepted=False, now=NOW).writes


def test_a_probe_of_the_current_or_a_lower_level_changes_nothing() -> None:
    assert not POLICY.after_probe(SignalState(level=1), 1, accepted=True, now=NOW).writes
    assert not POLICY.after_probe(SignalState(level=1), 2, accepted=True, now=NOW).writes


def test_a_single_level_chain_only_counts() -> None:
    single = Policy(max_retries=1, level_count=1)
    assert single.after_count(SignalState(failures=9), NOW).action is Action.NONE
