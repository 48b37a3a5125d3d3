"""How much is waiting in the backup, per signal and shard: objects, bytes, oldest age."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
LISTERS = 9  # shards listed at once: the default 8 and the older unsharded keys


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
    """List the signal's waiting objects: one LIST finds the shards that hold any (an
    empty backlog, the usual case, costs just that), then those shards side by side (so the
    probe and /status wait for one more S3 round trip, not one per shard), each up to its
    share of ``max_objects``, all within ``max_seconds``. Raises ``BackupError``."""
    shards = layout.shards_in(store.folders(layout.signal_prefix(signal)))
    if not shards:
        return Backlog(0, 0, None)
    per_shard = max(1, max_objects // len(shards))
    stop_at = clock() + max_seconds

    def count(shard: str) -> _ShardCount:
        prefix = layout.shard_prefix(signal, shard)
        return _count_shard(store, prefix, layout, most=per_shard, stop_at=stop_at, clock=clock)

    with ThreadPoolExecutor(min(len(shards), LISTERS), thread_name_prefix="backlog") as pool:
        counts = dict(zip(shards, pool.map(count, shards), strict=True))
    firsts = [c.oldest for c in counts.values() if c.oldest is not None]
    return Backlog(
        objects=sum(c.objects for c in counts.values()),
        bytes=sum(c.bytes for c in counts.values()),
        oldest=min(firsts, default=None),
        truncated=any(c.truncated for c in counts.values()),
        shards={shard: c.objects for shard, c in counts.items() if c.objects},
    )


@dataclass
class _ShardCount:
    objects: int = 0
    bytes: int = 0
    oldest: datetime | None = None
    truncated: bool = False


def _count_shard(
    store: ObjectStore,
    prefix: str,
    layout: BackupLayout,
    *,
    most: int,
    stop_at: float,
    clock: Callable[[], float],
) -> _ShardCount:
    found = _ShardCount()
    if clock() >= stop_at:
        found.truncated = True
        return found
    for entry in store.list(prefix):
        if found.oldest is None:
            found.oldest = layout.written_at(entry.key) or entry.last_modified.astimezone(UTC)
        found.objects += 1
        found.bytes += entry.size
        if found.objects >= most or clock() >= stop_at:
            found.truncated = True
            break
    return found
