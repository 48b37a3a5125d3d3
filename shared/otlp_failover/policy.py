"""The failover state machine for one signal: pure data in, decision out, no I/O.

Everything that decides when the level moves lives here. The state store applies the
decisions with conditional writes; the router and the probe only report outcomes.

    level L, failure at L           -> count it; at max_retries move to L+1 (not past the last)
    level L, success at L           -> reset the counter if it was not zero (else nothing)
    level L, outcome at another level -> nothing (only the current level's health counts)
    level L, probe success at K < L -> recover to K, counter reset
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


@dataclass(frozen=True)
class SignalState:
    """One signal's shared state: the current level and its consecutive-failure counter."""

    level: int = 0
    failures: int = 0
    changed_at: float = 0.0  # epoch seconds of the last level change (0 = never)


class Action(Enum):
    NONE = "none"
    COUNT_FAILURE = "count_failure"
    RESET_FAILURES = "reset_failures"
    FAIL_OVER = "fail_over"
    RECOVER = "recover"


@dataclass(frozen=True)
class Decision:
    """What to write, and the condition: the write holds only while ``level == expected_level``."""

    action: Action
    expected_level: int
    new_state: SignalState

    @property
    def writes(self) -> bool:
        return self.action is not Action.NONE


@dataclass(frozen=True)
class Policy:
    max_retries: int
    level_count: int

    def after_export(self, state: SignalState, level: int, accepted: bool) -> Decision:
        """Decision after one export attempt on ``level`` while ``state`` was current."""
        if level != state.level:
            return _nothing(state)
        if accepted:
            if state.failures == 0:
                return _nothing(state)
            return Decision(Action.RESET_FAILURES, state.level, replace(state, failures=0))
        return Decision(
            Action.COUNT_FAILURE, state.level, replace(state, failures=state.failures + 1)
        )

    def after_count(self, counted: SignalState, now: float) -> Decision:
        """Decision once the store has counted a failure (``counted`` is what it now holds).

        The count is atomic in the store, so concurrent failures all count, and the move
        is conditional on the level, so one outage moves the level one step only.
        """
        if counted.failures < self.max_retries or counted.level >= self.level_count - 1:
            return _nothing(counted)
        return Decision(
            Action.FAIL_OVER,
            counted.level,
            SignalState(level=counted.level + 1, failures=0, changed_at=now),
        )

    def after_probe(self, state: SignalState, level: int, accepted: bool, now: float) -> Decision:
        """Decision after the probe tried ``level`` (above the current one)."""
        if not accepted or level >= state.level:
            return _nothing(state)
        return Decision(Action.RECOVER, state.level, SignalState(level=level, changed_at=now))


def _nothing(state: SignalState) -> Decision:
    return Decision(Action.NONE, state.level, state)
