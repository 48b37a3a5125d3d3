"""How much is waiting in the backup, per signal and shard: objects, bytes, oldest age."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.ports import ObjectStore
from otlp_failover.signals import Signal

# A listing stops at ten thousand objects (shared by the shards) or after a few seconds,
# whichever comes first: /status must answer well inside API Gateway's 30 s and the probe
# inside its run. Each shard's oldest object is on its first page (keys sort by time
# within a shard), so the age stays exact; the count and the bytes are then lower bounds
# ("truncated").
MAX_COUNTED_OBJECTS = 10_000
MAX_COUNTING_SECONDS = 2.0


@dataclass(frozen=True)
class Backlog:
    objects: int
    bytes: int
    oldest: datetime | None
    truncated: bool = False  # the listing was capped: at least ``objects``, ``bytes``
    shards: dict[str, int] = field(default_factory=dict)  # non-empty shard -> objects seen

    def oldest_age_seconds(self, now: datetime) -> float | None:
        return None if self.oldest is None else max(0.0, (now - self.oldest).total_seconds())

    def as_dict(self, now: datetime) -> dict[str, Any]:
        age = self.oldest_age_seconds(now)
        return {
            "objects": self.objects,
            "bytes": self.bytes,
            "oldest_age_seconds": None if age is None else round(age, 3),
            "truncated": self.truncated,
            "shards": dict(sorted(self.shards.items())),
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
    """List the signal's waiting objects shard by shard, each shard up to its share of
    ``max_objects``, all within ``max_seconds``. Raises ``BackupError``."""
    shards = layout.shard_names()
    per_shard = max(1, max_objects // len(shards))
    objects = size = 0
    oldest: datetime | None = None
    seen: dict[str, int] = {}
    truncated = False
    stop_at = clock() + max_seconds
    for shard in shards:
        if clock() >= stop_at:
            return Backlog(objects, size, oldest, truncated=True, shards=seen)
        count = 0
        for entry in store.list(layout.shard_prefix(signal, shard)):
            if count == 0:
                first = layout.written_at(entry.key) or entry.last_modified.astimezone(UTC)
                oldest = first if oldest is None else min(oldest, first)
            count += 1
            size += entry.size
            if count >= per_shard or clock() >= stop_at:
                truncated = True
                break
        if count:
            seen[shard] = count
            objects += count
    return Backlog(objects, size, oldest, truncated=truncated, shards=seen)
