"""What a probe run reports before it probes anything: CurrentLevel and the backlog,
flushed first, the listing within its share of the run, and what a failing store costs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from otlp_failover.backup.ports import StoredObject
from otlp_failover.metrics import BACKLOG_OBJECTS, BACKLOG_OLDEST_AGE, CURRENT_LEVEL
from otlp_failover.probe.prober import BACKLOG_SECONDS
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import MOMENT, seed
from tests.unit.fakes import (
    WALL_START,
    MemoryObjectStore,
)
from tests.unit.probe.scripted import TRACES, Probe


def test_current_level_is_flushed_before_any_backend_is_probed() -> None:
    probe = Probe(level=2)
    probe.run(budget=5.0)
    first_export = probe.metrics.journal.index("export otlphttp/primary")
    assert probe.metrics.journal[0] == "flush CurrentLevel"
    assert first_export > 0
    assert {s for name, s, _ in probe.metrics.gauges[:3] if name == CURRENT_LEVEL} == set(Signal)


def test_the_backlog_is_reported_before_probing_too() -> None:
    probe = Probe(level=1)
    seed(probe.objects, ["a"], ["b"], signal=TRACES)
    probe.run(budget=5.0)
    assert probe.metrics.journal[:3] == [
        "flush CurrentLevel",
        "flush BacklogObjects BacklogOldestAge",
        "export otlphttp/primary",
    ]
    assert probe.metrics.gauged(BACKLOG_OBJECTS, TRACES) == [2]
    assert probe.metrics.gauged(BACKLOG_OBJECTS, Signal.LOGS) == [0]
    age = datetime.fromtimestamp(WALL_START, UTC) - MOMENT
    assert probe.metrics.gauged(BACKLOG_OLDEST_AGE, TRACES) == [age.total_seconds()]


def test_a_slow_backlog_listing_stops_at_its_share_of_the_run_and_says_at_least() -> None:
    probe = Probe(level=0)
    seed(probe.objects, *[["x"]] * 10, signal=TRACES)
    clock = probe.clock

    class SlowListing(MemoryObjectStore):
        def list(self, prefix: str) -> Iterator[StoredObject]:
            for entry in super().list(prefix):
                clock.advance(1.0)  # one slow page per object
                yield entry

    slow = SlowListing()
    slow.objects = probe.objects.objects
    probe.objects = slow
    probe.run()
    (objects,) = probe.metrics.gauged(BACKLOG_OBJECTS, TRACES)
    assert objects == BACKLOG_SECONDS  # a lower bound: 10 are waiting
    assert probe.metrics.gauged(BACKLOG_OLDEST_AGE, TRACES)[0] > 0  # from the first page


def test_current_level_is_gauged_for_every_signal_on_every_pass() -> None:
    probe = Probe(level=2)
    probe.run(budget=25.0)  # passes at 0, 10 and 20
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [2, 2, 2]
    assert probe.metrics.gauged(CURRENT_LEVEL, Signal.LOGS) == [0, 0, 0]
    assert probe.metrics.journal.count("flush CurrentLevel") == 3  # each pass begins with it


def test_a_state_store_error_skips_the_signals_and_the_run_still_ends() -> None:
    probe = Probe(level=1)
    probe.store.failing = True
    assert probe.run() == []
    assert probe.probed() == [[], [], []] and probe.clock.sleeps == []  # one pass
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == []  # no level known to report


def test_a_backup_that_cannot_be_listed_costs_only_the_backlog_gauges() -> None:
    probe = Probe(level=0)
    probe.objects.failing.add("list")
    probe.run()
    assert probe.metrics.gauged(BACKLOG_OBJECTS, TRACES) == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [0]
