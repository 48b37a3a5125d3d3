"""What the drain needs from the outside: a run lease and a checkpoint per signal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from otlp_failover.signals import Signal


@dataclass(frozen=True)
class Checkpoint:
    """Where a drain of one signal stands.

    ``done``: objects whose every line was accepted but that are not deleted yet.
    ``partial``/``line``: the object being drained and how many of its lines were accepted.
    """

    done: tuple[str, ...] = ()
    partial: str | None = None
    line: int = 0

    def lines_done(self, key: str) -> int:
        return self.line if key == self.partial else 0


class CheckpointStore(Protocol):
    def load(self, signal: Signal) -> Checkpoint: ...

    def save(self, signal: Signal, checkpoint: Checkpoint) -> None: ...


class DrainLease(Protocol):
    def acquire(self, lease_seconds: float) -> bool:
        """Take the run lock unless a live lease is held by someone else."""
        ...

    def release(self) -> None: ...
