"""measure_backlog: the listing stops at its object cap or its time cap, and says so."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from otlp_failover.backup.backlog import MAX_COUNTED_OBJECTS, Backlog, measure_backlog
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.signals import Signal
from tests.unit.fakes import MemoryObjectStore

LAYOUT = BackupLayout("backup")
TRACES = Signal.TRACES
FIRST = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def store_of(count: int) -> MemoryObjectStore:
    store = MemoryObjectStore()
    for index in range(count):
        moment = FIRST.replace(second=index % 60, minute=index // 60 % 60, hour=9 + index // 3600)
        store.put(LAYOUT.new_key(TRACES, moment, f"{index:06}"), b"x" * 10, "", {})
    return store


def test_a_small_backlog_is_counted_in_full() -> None:
    assert measure_backlog(store_of(3), LAYOUT, TRACES) == Backlog(3, 30, FIRST)


def test_the_count_stops_at_the_object_cap_and_is_a_lower_bound() -> None:
    backlog = measure_backlog(store_of(25), LAYOUT, TRACES, max_objects=10)
    assert (backlog.objects, backlog.bytes, backlog.truncated) == (10, 100, True)
    assert backlog.oldest == FIRST  # from the first page: exact
    assert backlog.as_dict(FIRST)["truncated"] is True


def test_the_count_stops_at_the_time_cap() -> None:
    ticks = itertools.count()  # one second per look at the clock
    backlog = measure_backlog(
        store_of(25), LAYOUT, TRACES, max_seconds=4.0, clock=lambda: float(next(ticks))
    )
    assert (backlog.objects, backlog.truncated, backlog.oldest) == (4, True, FIRST)


def test_the_default_cap_is_ten_s3_pages() -> None:
    assert MAX_COUNTED_OBJECTS == 10 * 1000
    backlog = measure_backlog(store_of(MAX_COUNTED_OBJECTS + 5), LAYOUT, TRACES, max_seconds=60)
    assert (backlog.objects, backlog.truncated) == (MAX_COUNTED_OBJECTS, True)
