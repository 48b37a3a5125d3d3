"""The ports of the failover domain: what it needs from exporters and the shared state.

Adapters implement them (``exporters.otlphttp``, ``backup.writer``, ``aws.dynamodb_state``);
tests and the chaos suite pass in-memory fakes or fault wrappers instead.
"""

from __future__ import annotations

from typing import Protocol

from otlp_failover.codec import ExportBody
from otlp_failover.failover.outcomes import ExportResult
from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal


class Exporter(Protocol):
    """One destination. ``deadline`` is a ``time.monotonic()`` instant it must not pass."""

    name: str

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        """Deliver ``body``; never raises for a backend problem, reports it in the result.

        ``retry=False`` makes one attempt only (the probe asks "are you back?", not "take this").
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""


class StateStore(Protocol):
    """The shared per-signal state, as named operations that know nothing of the rules.

    Every write holds only while the signal is on the level given and in the epoch given
    (``SignalState.changed_at`` as the caller read it: the time of its last move, 0 if it
    never moved); when it is not, the store writes nothing and answers what it holds now.
    Errors raise ``StateStoreError``.
    """

    def read(self, signal: Signal) -> SignalState:
        """A strongly consistent read."""
        ...

    def count_failure(self, signal: Signal, level: int, epoch: float) -> SignalState:
        """Add one to the counter atomically (concurrent failures all count)."""
        ...

    def reset_failures(self, signal: Signal, level: int, epoch: float) -> SignalState: ...

    def move(
        self, signal: Signal, from_level: int, to_level: int, epoch: float
    ) -> tuple[SignalState, bool]:
        """Switch levels, counter reset, a new epoch; ``True`` when this call did it."""
        ...
