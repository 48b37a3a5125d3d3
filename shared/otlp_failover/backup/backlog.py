"""How much is waiting in the backup, per signal: objects, bytes, oldest age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.ports import ObjectStore
from otlp_failover.signals import Signal

MAX_COUNTED_OBJECTS = 100_000  # /status stays fast on a huge backlog; "truncated" says so


@dataclass(frozen=True)
class Backlog:
    objects: int
    bytes: int
    oldest: datetime | None
    truncated: bool = False

    def oldest_age_seconds(self, now: datetime) -> float | None:
        return None if self.oldest is None else max(0.0, (now - self.oldest).total_seconds())

    def as_dict(self, now: datetime) -> dict[str, Any]:
        age = self.oldest_age_seconds(now)
        return {
            "objects": self.objects,
            "bytes": self.bytes,
            "oldest_age_seconds": None if age is None else round(age, 3),
            "truncated": self.truncated,
        }


def measure_backlog(store: ObjectStore, layout: BackupLayout, signal: Signal) -> Backlog:
    """List the signal's waiting objects (keys sort oldest first). Raises ``BackupError``."""
    objects = size = 0
    oldest: datetime | None = None
    for entry in store.list(layout.signal_prefix(signal)):
        if oldest is None:
            oldest = layout.written_at(entry.key) or entry.last_modified.astimezone(UTC)
        objects += 1
        size += entry.size
        if objects >= MAX_COUNTED_OBJECTS:
            return Backlog(objects, size, oldest, truncated=True)
    return Backlog(objects, size, oldest)
