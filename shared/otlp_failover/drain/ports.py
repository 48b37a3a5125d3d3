"""What the drain needs from the outside: a lease and a checkpoint per (signal, shard)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from otlp_failover.signals import Signal


@dataclass(frozen=True, order=True)
class DrainUnit:
    """One shard of one signal's backlog: what one worker drains, under its own lease."""

    signal: Signal
    shard: str

    def __str__(self) -> str:
        return f"{self.signal.value}/{self.shard}"

    def as_list(self) -> list[str]:
        return [self.signal.value, self.shard]

    @classmethod
    def from_list(cls, raw: list[str]) -> DrainUnit:
        signal, shard = raw
        return cls(Signal(signal), shard)


# A checkpoint lists the objects it completed until they are deleted; a batch completes at
# most this many, so the item stays far below DynamoDB's 400 KB (backup keys are about
# 100 bytes) whatever DrainBatchLines is.
MAX_DONE_KEYS = 500


@dataclass(frozen=True)
class Checkpoint:
    """Where a drain of one unit stands.

    ``done``: objects whose every line was accepted or set aside but that are not deleted yet.
    ``partial``/``line``: the object being drained and how many of its lines are settled.
    """

    done: tuple[str, ...] = ()
    partial: str | None = None
    line: int = 0

    def lines_done(self, key: str) -> int:
        return self.line if key == self.partial else 0


class CheckpointStore(Protocol):
    def load(self, unit: DrainUnit) -> Checkpoint: ...

    def save(self, unit: DrainUnit, checkpoint: Checkpoint) -> None: ...


class DrainLeases(Protocol):
    """One lease per unit, so workers of different units never wait for each other."""

    def acquire(self, unit: DrainUnit, lease_seconds: float) -> bool:
        """Take the unit's lease unless a live one is held by someone else. A refused
        taker leaves a request behind, which the holder's ``release`` reports."""
        ...

    def release(self, unit: DrainUnit) -> bool:
        """Free the unit's lease; True if another drain asked for it meanwhile."""
        ...
