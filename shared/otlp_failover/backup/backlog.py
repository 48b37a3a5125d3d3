"""How much is waiting in the backup, per signal: objects, bytes, oldest age."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.ports import ObjectStore
from otlp_failover.signals import Signal

# A listing stops at ten S3 pages or after a few seconds, whichever comes first: /status
# must answer well inside API Gateway's 30 s and the probe inside its run. The oldest
# object is on the first page (keys sort by time), so the age stays exact; the count and
# the bytes are then lower bounds ("truncated").
MAX_COUNTED_OBJECTS = 10_000
MAX_COUNTING_SECONDS = 2.0


@dataclass(frozen=True)
class Backlog:
    objects: int
    bytes: int
    oldest: datetime | None
    truncated: bool = False  # the listing was capped: at least ``objects``, ``bytes``

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


def measure_backlog(
    store: ObjectStore,
    layout: BackupLayout,
    signal: Signal,
    *,
    max_objects: int = MAX_COUNTED_OBJECTS,
    max_seconds: float = MAX_COUNTING_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Backlog:
    """List the signal's waiting objects (keys sort oldest first), up to ``max_objects`` or
    ``max_seconds``, whichever ends first. Raises ``BackupError``."""
    objects = size = 0
    oldest: datetime | None = None
    stop_at = clock() + max_seconds
    for entry in store.list(layout.signal_prefix(signal)):
        if oldest is None:
            oldest = layout.written_at(entry.key) or entry.last_modified.astimezone(UTC)
        objects += 1
        size += entry.size
        if objects >= max_objects or clock() >= stop_at:
            return Backlog(objects, size, oldest, truncated=True)
    return Backlog(objects, size, oldest)
