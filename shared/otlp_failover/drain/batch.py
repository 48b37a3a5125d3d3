"""The lines gathered for one replay POST, and what each settled prefix of them completes."""

from __future__ import annotations

from dataclasses import dataclass, field

from otlp_failover.drain.ports import MAX_DONE_KEYS, Checkpoint
from otlp_failover.settings.environment import DrainLimits


@dataclass(frozen=True)
class Entry:
    key: str  # the object the line came from
    number: int  # its line number there
    line: bytes


@dataclass
class Batch:
    entries: list[Entry] = field(default_factory=list)
    size: int = 0
    # Objects whose last line is in this batch (or was settled before it), with the index of
    # that line in ``entries`` (-1: settled before): once entries[:i+1] are settled, so is it.
    completed: list[tuple[str, int]] = field(default_factory=list)
    finished: set[str] = field(default_factory=set)  # completed and deleted already

    def add(self, key: str, number: int, line: bytes) -> None:
        self.entries.append(Entry(key, number, line))
        self.size += len(line)

    def complete(self, key: str) -> None:
        last = len(self.entries) - 1
        at = last if last >= 0 and self.entries[last].key == key else -1
        self.completed.append((key, at))

    def full(self, limits: DrainLimits) -> bool:
        return (
            len(self.entries) >= limits.batch_lines
            or self.size >= limits.batch_bytes
            or len(self.completed) >= MAX_DONE_KEYS
        )

    def __bool__(self) -> bool:
        return bool(self.entries or self.completed)

    def settled_through(self, index: int) -> Checkpoint:
        """What is true once ``entries[: index + 1]`` were accepted or set aside (-1: none)."""
        settled = [key for key, at in self.completed if at <= index]
        done = tuple(key for key in settled if key not in self.finished)
        if index < 0 or self.entries[index].key in settled:
            return Checkpoint(done=done)
        entry = self.entries[index]
        return Checkpoint(done=done, partial=entry.key, line=entry.number + 1)
