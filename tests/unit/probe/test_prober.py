"""The Prober on a manual clock: cadence inside a budget, the long-interval schedule, the order
and spacing of probes, CurrentLevel every pass, and when a drain is started."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from otlp_failover.backup.reader import BackupReader
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.failover.rules import Rules
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import BACKLOG_OBJECTS, BACKLOG_OLDEST_AGE, CURRENT_LEVEL, RECOVERIES
from otlp_failover.probe.prober import PROBE_TIMEOUT, Prober, Recovery
from otlp_failover.settings.chain import (
    ExporterConfig,
    FailoverConfig,
    OtlpHttpConfig,
    S3Config,
)
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import LAYOUT, MOMENT, seed
from tests.unit.fakes import (
    WALL_START,
    Answer,
    ManualClock,
    MemoryObjectStore,
    MemoryStateStore,
    RecordingMetrics,
    ScriptedExporter,
)

TRACES = Signal.TRACES
OK, FAIL = Outcome.ACCEPTED, Outcome.FAILED
CHAIN: tuple[tuple[ExporterConfig, ...], ...] = (
    (OtlpHttpConfig("otlphttp/primary", "https://otlp.example.com"),),
    (OtlpHttpConfig("otlphttp/secondary", "https://otlp.dr.example.com"),),
    (S3Config("s3/backup", "backup-bucket"),),
)


@dataclass
class Probe:
    """A prober over three levels, with traces on ``level`` and the other signals on 0."""

    level: int = 1
    retry_interval: float = 10.0
    retry_gap: float = 1.0
    backup: bool = True
    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryStateStore = field(default_factory=MemoryStateStore)
    objects: MemoryObjectStore = field(default_factory=MemoryObjectStore)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    drains: list[Signal] = field(default_factory=list)
    exporters: list[ScriptedExporter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store.states[TRACES] = SignalState(self.level)
        self.answer(FAIL, FAIL, FAIL)

    def answer(self, *answers: Answer | list[Answer]) -> Probe:
        """Each level's answer to every probe, or its answers in order (the last repeats)."""
        self.exporters = [
            ScriptedExporter(
                config.name,
                answer if isinstance(answer, list) else [],
                then=answer[-1] if isinstance(answer, list) else answer,
                clock=self.clock,
            )
            for (config,), answer in zip(CHAIN, answers, strict=True)
        ]
        return self

    def prober(self) -> Prober:
        config = FailoverConfig(CHAIN, 3, self.retry_interval, self.retry_gap)
        return Prober(
            config=config,
            levels=[Level(index, (exporter,)) for index, exporter in enumerate(self.exporters)],
            health=LevelHealth(self.store, Rules(3, 3), self.metrics),
            backup=BackupReader(self.objects, LAYOUT) if self.backup else None,
            metrics=self.metrics,
            start_drain=self.drains.append,
            clock=self.clock,
            wall_clock=self.clock.wall,
            sleep=self.clock.sleep,
        )

    def run(self, budget: float = 55.0) -> list[Recovery]:
        return self.prober().run(budget)

    def probed(self) -> list[list[float]]:
        """When each level was probed."""
        return [exporter.times for exporter in self.exporters]


def test_a_short_interval_probes_every_interval_inside_one_budget() -> None:
    probe = Probe(level=1, retry_interval=10.0)
    assert probe.run(budget=45.0) == []
    assert probe.probed() == [[0.0, 10.0, 20.0, 30.0, 40.0], [], []]  # not at 50: past 45
    assert probe.clock.sleeps == [10.0] * 4


def test_level_1_to_0_on_the_first_probe_the_primary_accepts_and_the_run_ends() -> None:
    probe = Probe(level=1).answer([FAIL, OK], FAIL, FAIL)
    assert probe.run() == [Recovery(TRACES, 1, 0)]
    assert probe.probed()[0] == [0.0, 10.0]  # every signal on level 0: no third pass
    assert probe.store.states[TRACES].level == 0
    assert probe.metrics.total(RECOVERIES, TRACES) == 1


@pytest.mark.parametrize(("wall", "due"), [(WALL_START, True), (WALL_START + 60, False)])
def test_a_long_interval_probes_only_in_the_run_where_a_new_interval_begins(
    wall: float, due: bool
) -> None:
    probe = Probe(level=1, retry_interval=120.0, clock=ManualClock(wall=wall))
    probe.run()
    assert probe.probed()[0] == ([0.0] if due else [])
    assert probe.clock.sleeps == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [1]  # reported either way


def test_levels_are_probed_highest_priority_first_retry_gap_apart() -> None:
    probe = Probe(level=2, retry_gap=3.0)
    probe.prober().probe_once()
    assert probe.probed() == [[0.0], [3.0], []]  # the current level itself is not probed
    assert probe.clock.sleeps == [3.0]


def test_level_2_to_1_when_only_the_secondary_answers() -> None:
    probe = Probe(level=2).answer(FAIL, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 2, 1)]
    assert probe.store.states[TRACES].level == 1


def test_level_2_to_0_stops_at_the_primary_without_probing_the_secondary() -> None:
    probe = Probe(level=2).answer(OK, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 2, 0)]
    assert probe.probed() == [[0.0], [], []] and probe.clock.sleeps == []


def test_probes_are_single_attempts_of_an_empty_export_with_a_short_deadline() -> None:
    probe = Probe(level=1)
    probe.prober().probe_once()
    (call,) = probe.exporters[0].calls
    assert (call.retry, call.body.signal, call.body.raw) == (False, TRACES, b"")
    assert 0 < call.deadline - time.monotonic() <= PROBE_TIMEOUT


def test_one_pass_only_when_every_signal_is_on_level_0() -> None:
    probe = Probe(level=0)
    assert probe.run(budget=55.0) == []
    assert probe.probed() == [[], [], []] and probe.clock.sleeps == []
    for signal in Signal:
        assert probe.metrics.gauged(CURRENT_LEVEL, signal) == [0]


def test_current_level_is_gauged_for_every_signal_on_every_pass() -> None:
    probe = Probe(level=2)
    probe.run(budget=25.0)  # passes at 0, 10 and 20
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [2, 2, 2]
    assert probe.metrics.gauged(CURRENT_LEVEL, Signal.LOGS) == [0, 0, 0]
    assert probe.metrics.flushes == 3  # after each pass, the last with the backlog


def test_a_recovery_to_an_otlp_level_with_a_backup_starts_the_drain() -> None:
    probe = Probe(level=2).answer(FAIL, OK, OK)
    probe.prober().probe_once()
    assert probe.drains == [TRACES]


def test_a_recovery_without_a_backup_starts_no_drain() -> None:
    probe = Probe(level=1, backup=False).answer(OK, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 1, 0)]
    assert probe.drains == []


def test_no_recovery_starts_no_drain() -> None:
    probe = Probe(level=1)
    probe.run()
    assert probe.drains == []


def test_a_recovery_another_instance_made_first_starts_no_drain_here() -> None:
    probe = Probe(level=1).answer(OK, OK, OK)
    probe.store.before_next("move", lambda: probe.store.states.update({TRACES: SignalState(0)}))
    assert probe.prober().probe_once() == []
    assert probe.drains == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [0]  # what the store answered


def test_a_state_store_error_skips_the_signals_and_the_run_still_ends() -> None:
    probe = Probe(level=1)
    probe.store.failing = True
    assert probe.run() == []
    assert probe.probed() == [[], [], []] and probe.clock.sleeps == []  # one pass
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == []  # no level known to report


def test_the_backlog_of_each_signal_is_gauged_at_the_end_of_the_run() -> None:
    probe = Probe(level=0)
    seed(probe.objects, ["a"], ["b"], signal=TRACES)
    probe.run()
    assert probe.metrics.gauged(BACKLOG_OBJECTS, TRACES) == [2]
    assert probe.metrics.gauged(BACKLOG_OBJECTS, Signal.LOGS) == [0]
    age = datetime.fromtimestamp(WALL_START, UTC) - MOMENT
    assert probe.metrics.gauged(BACKLOG_OLDEST_AGE, TRACES) == [age.total_seconds()]


def test_a_backup_that_cannot_be_listed_costs_only_the_backlog_gauges() -> None:
    probe = Probe(level=0)
    probe.objects.failing.add("list")
    probe.run()
    assert probe.metrics.gauged(BACKLOG_OBJECTS, TRACES) == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [0] and probe.metrics.flushes == 1
