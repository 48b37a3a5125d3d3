"""measure_backlog: shard by shard, the listing stops at its object cap (shared by the
shards) or its time cap, and says so; each shard's oldest key gives the exact age."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from otlp_failover.backup.backlog import MAX_COUNTED_OBJECTS, Backlog, measure_backlog
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.ports import StoredObject
from otlp_failover.signals import Signal
from tests.unit.fakes import MemoryObjectStore

LAYOUT = BackupLayout("backup", shards=4)
TRACES = Signal.TRACES
FIRST = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def store_of(count: int, shards: int = 4) -> MemoryObjectStore:
    """``count`` objects, one second apart, dealt round the first ``shards`` shards."""
    store = MemoryObjectStore()
    for index in range(count):
        shard = LAYOUT.shard_names()[index % shards]
        key = LAYOUT.new_key(TRACES, FIRST + timedelta(seconds=index), f"{index:06}", shard)
        store.put(key, b"x" * 10, "", {})
    return store


def test_a_small_backlog_is_counted_in_full_per_shard() -> None:
    backlog = measure_backlog(store_of(3), LAYOUT, TRACES)
    assert backlog == Backlog(3, 30, FIRST, shards={"s00": 1, "s01": 1, "s02": 1})
    assert backlog.as_dict(FIRST)["shards"] == {"s00": 1, "s01": 1, "s02": 1}


def test_the_oldest_object_is_the_oldest_of_every_shard() -> None:
    store = store_of(8)
    older = LAYOUT.new_key(TRACES, FIRST - timedelta(hours=1), "older", "s03")
    store.put(older, b"x", "", {})
    assert measure_backlog(store, LAYOUT, TRACES).oldest == FIRST - timedelta(hours=1)


def test_keys_of_the_unsharded_layout_count_under_the_legacy_shard() -> None:
    store = store_of(2)
    store.put("backup/traces/2026/11/27/08/20261127T080000.000000Z-old.jsonl", b"x", "", {})
    backlog = measure_backlog(store, LAYOUT, TRACES)
    assert backlog.shards == {"s00": 1, "s01": 1, "legacy": 1}
    assert backlog.oldest == FIRST - timedelta(hours=1)


def test_the_cap_is_shared_by_the_shards_and_the_count_is_a_lower_bound() -> None:
    backlog = measure_backlog(store_of(40, shards=2), LAYOUT, TRACES, max_objects=10)
    per_shard = 10 // 2  # shared by the shards that hold objects, not by every shard
    assert (backlog.objects, backlog.truncated) == (2 * per_shard, True)
    assert backlog.shards == {"s00": per_shard, "s01": per_shard}
    assert backlog.oldest == FIRST  # from the first page: exact
    assert backlog.as_dict(FIRST)["truncated"] is True


def test_the_count_stops_at_the_time_cap() -> None:
    ticks = itertools.count()  # one second per look at the clock
    backlog = measure_backlog(
        store_of(25, shards=1), LAYOUT, TRACES, max_seconds=4.0, clock=lambda: float(next(ticks))
    )
    assert backlog.truncated and backlog.oldest == FIRST and 0 < backlog.objects < 25


def test_the_default_cap_is_ten_s3_pages_over_all_shards() -> None:
    assert MAX_COUNTED_OBJECTS == 10 * 1000
    store = store_of(MAX_COUNTED_OBJECTS + 5)
    backlog = measure_backlog(store, LAYOUT, TRACES, max_seconds=60)
    assert backlog.truncated and backlog.objects <= MAX_COUNTED_OBJECTS


class CountingStore(MemoryObjectStore):
    def __init__(self) -> None:
        super().__init__()
        self.listings: list[str] = []

    def list(self, prefix: str) -> Iterator[StoredObject]:
        self.listings.append(prefix)
        return super().list(prefix)

    def folders(self, prefix: str) -> Sequence[str]:
        self.listings.append(f"{prefix} (folders)")
        return super().folders(prefix)


def test_an_empty_backlog_costs_one_listing_not_one_per_shard() -> None:
    store = CountingStore()
    assert measure_backlog(store, LAYOUT, TRACES) == Backlog(0, 0, None)
    assert store.listings == ["backup/traces/ (folders)"]


def test_only_the_shards_that_hold_objects_are_listed() -> None:
    store = CountingStore()
    for index, shard in enumerate(["s02", "s02", "s09"]):  # s09: from a larger shard count
        store.put(LAYOUT.new_key(TRACES, FIRST, f"{index}", shard), b"x", "", {})
    assert measure_backlog(store, LAYOUT, TRACES).shards == {"s02": 2, "s09": 1}
    assert sorted(store.listings) == [
        "backup/traces/ (folders)",
        "backup/traces/s02/",
        "backup/traces/s09/",
    ]
