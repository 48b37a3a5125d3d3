"""The failover rules for one signal: pure data in, a complete transition out, no I/O.

Everything that decides when the level moves lives here; ``health.py`` carries the
transitions out through the state store, which only offers named operations.

    level L, failure at L             -> count it (atomically, in the store)
    level L, counted failures reach max_retries -> move L -> L+1 (not past the last level)
    level L, success at L             -> reset the counter if it was not zero (else stay)
    level L, outcome at another level -> stay (only the current level's health counts)
    level L, probe_successes probes in a row accepted at K < L -> move L -> K

Every write names the state it was decided on: the level and its epoch (``changed_at``,
the time the signal last moved). A write decided before a move and landing after it (a
slow export's failure counted after a recovery) finds another epoch and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from otlp_failover.failover.state import SignalState


@dataclass(frozen=True)
class Stay:
    """Nothing to write."""


@dataclass(frozen=True)
class CountFailure:
    """Add one to the counter, if the signal is still on ``level`` since ``epoch``."""

    level: int
    epoch: float


@dataclass(frozen=True)
class ResetFailures:
    """Set the counter to zero, if the signal is still on ``level`` since ``epoch``."""

    level: int
    epoch: float


@dataclass(frozen=True)
class Move:
    """Switch ``from_level`` -> ``to_level`` (counter reset), if still on ``from_level``
    since ``epoch``."""

    from_level: int
    to_level: int
    epoch: float


Transition = Stay | CountFailure | ResetFailures | Move
STAY = Stay()


@dataclass(frozen=True)
class Rules:
    max_retries: int
    level_count: int
    probe_successes: int = 1  # consecutive accepted probes before traffic goes back up

    def after_export(self, state: SignalState, level: int, accepted: bool) -> Transition:
        """After one export attempt on ``level`` while ``state`` was current."""
        if level != state.level:
            return STAY
        if accepted:
            return ResetFailures(level, state.changed_at) if state.failures else STAY
        return CountFailure(level, state.changed_at)

    def after_count(self, counted: SignalState) -> Stay | Move:
        """Once the store counted a failure (``counted`` is what it now holds).

        The count is atomic in the store, so concurrent failures all count, and the move
        is conditional on the level and its epoch, so one outage moves the level one step
        only.
        """
        if counted.failures < self.max_retries or counted.level >= self.level_count - 1:
            return STAY
        return Move(counted.level, counted.level + 1, counted.changed_at)

    def after_probe(
        self, state: SignalState, level: int, accepted: bool, streak: int
    ) -> Stay | Move:
        """After the probe tried ``level`` (above the current one); ``streak`` is how many
        probes of it in a row were accepted, this one included."""
        if not accepted or level >= state.level or streak < self.probe_successes:
            return STAY
        return Move(state.level, level, state.changed_at)
