"""The Prober on a manual clock: what a run reports first, cadence and every wait inside the
budget, the long-interval schedule, the order and spacing of probes, the consecutive
successes a recovery needs, and when a drain is started."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from otlp_failover.backup.ports import StoredObject
from otlp_failover.backup.reader import BackupReader
from otlp_failover.errors import ConfigError
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.failover.rules import Rules
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import BACKLOG_OBJECTS, BACKLOG_OLDEST_AGE, CURRENT_LEVEL, RECOVERIES
from otlp_failover.probe.prober import BACKLOG_SECONDS, PROBE_TIMEOUT, Prober, Recovery
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
    ExportCall,
    ManualClock,
    MemoryObjectStore,
    MemoryStateStore,
    RecordingMetrics,
    Script,
    ScriptedExporter,
)

TRACES = Signal.TRACES
OK, FAIL = Outcome.ACCEPTED, Outcome.FAILED
CHAIN: tuple[tuple[ExporterConfig, ...], ...] = (
    (OtlpHttpConfig("otlphttp/primary", "https://otlp.example.com"),),
    (OtlpHttpConfig("otlphttp/secondary", "https://otlp.dr.example.com"),),
    (S3Config("s3/backup", "backup-bucket"),),
)
Behaviour = Answer | list[Answer] | Script


@dataclass
class Probe:
    """A prober over three levels, with traces on ``level`` and the other signals on 0."""

    level: int = 1
    retry_interval: float = 10.0
    retry_gap: float = 1.0
    successes: int = 2
    request: str = "empty"
    backup: bool = True
    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryStateStore = field(default_factory=MemoryStateStore)
    objects: MemoryObjectStore = field(default_factory=MemoryObjectStore)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    drains: list[Signal] = field(default_factory=list)
    exporters: list[ScriptedExporter] = field(default_factory=list)
    given: list[float] = field(default_factory=list)  # seconds each hung probe was given

    def __post_init__(self) -> None:
        self.store.states[TRACES] = SignalState(self.level)
        self.answer(FAIL, FAIL, FAIL)

    def answer(self, *behaviours: Behaviour) -> Probe:
        """Each level's answer to every probe, its answers in order (the last repeats), or
        a script."""
        self.exporters = [
            self._exporter(config.name, behaviour)
            for (config,), behaviour in zip(CHAIN, behaviours, strict=True)
        ]
        return self

    def _exporter(self, name: str, behaviour: Behaviour) -> ScriptedExporter:
        answers: list[Answer] = []
        script: Script | None = None
        then: Answer = OK
        if isinstance(behaviour, list):
            answers, then = behaviour, behaviour[-1]
        elif callable(behaviour):
            script = behaviour
        else:
            then = behaviour
        return ScriptedExporter(
            name, answers, script, then, clock=self.clock, journal=self.metrics.journal
        )

    def hangs(self, call: ExportCall) -> Answer:
        """A backend that never answers: each probe takes all the time it was given."""
        given = max(0.0, call.deadline - time.monotonic())
        self.given.append(round(given, 2))
        self.clock.advance(given)
        return FAIL

    def prober(self) -> Prober:
        config = FailoverConfig(
            CHAIN, 3, self.retry_interval, self.retry_gap, self.successes, self.request
        )
        return Prober(
            config=config,
            levels=[Level(index, (exporter,)) for index, exporter in enumerate(self.exporters)],
            health=LevelHealth(self.store, Rules(3, 3, self.successes), self.metrics),
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


# ----------------------------------------------------------------- what a run reports first


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


# ------------------------------------------------------------------- cadence and budget


def test_a_short_interval_probes_every_interval_inside_one_budget() -> None:
    probe = Probe(level=1, retry_interval=10.0)
    assert probe.run(budget=45.0) == []
    assert probe.probed() == [[0.0, 10.0, 20.0, 30.0, 40.0], [], []]  # not at 50: past 45
    assert probe.clock.sleeps == [10.0] * 4


def test_one_pass_only_when_every_signal_is_on_level_0() -> None:
    probe = Probe(level=0)
    assert probe.run(budget=55.0) == []
    assert probe.probed() == [[], [], []] and probe.clock.sleeps == []
    for signal in Signal:
        assert probe.metrics.gauged(CURRENT_LEVEL, signal) == [0]


def allowed_timings() -> Iterator[tuple[float, float]]:
    """(retry_interval, retry_gap) pairs the three-level chain accepts, short to long."""
    for interval in (1.0, 2.0, 5.0, 10.0, 30.0, 59.0, 60.0, 120.0, 300.0):
        for gap in (0.0, 0.5, 2.0, 5.0, 20.0, 30.0):
            try:
                FailoverConfig.from_mapping(
                    {
                        "priority_levels": [
                            [{"otlphttp/a": {"endpoint": "http://a"}}],
                            [{"otlphttp/b": {"endpoint": "http://b"}}],
                            [{"s3": {"bucket": "backup"}}],
                        ],
                        "retry_interval": interval,
                        "retry_gap": gap,
                    }
                )
            except ConfigError:
                continue
            yield interval, gap


@pytest.mark.parametrize(("interval", "gap"), list(allowed_timings()))
def test_with_hanging_backends_every_wait_ends_by_the_budget(interval: float, gap: float) -> None:
    probe = Probe(level=2, retry_interval=interval, retry_gap=gap)
    probe.answer(probe.hangs, probe.hangs, FAIL)
    probe.run(budget=55.0)
    assert probe.clock.now <= 55.0
    assert probe.given and max(probe.given) <= PROBE_TIMEOUT
    assert len(probe.exporters[1].calls) >= 1  # the first pass reached the secondary
    assert probe.metrics.journal[0] == "flush CurrentLevel"


def test_each_probe_gets_at_most_what_is_left_of_the_budget() -> None:
    probe = Probe(level=1, retry_interval=4.0)
    probe.answer(probe.hangs, FAIL, FAIL)
    probe.run(budget=7.0)
    assert probe.given == [PROBE_TIMEOUT, 2.0]  # the second pass starts at 5 with 2 s left
    assert probe.clock.now == pytest.approx(7.0, abs=0.01)


def test_a_gap_that_leaves_no_time_for_a_probe_is_not_slept() -> None:
    probe = Probe(level=2, retry_gap=3.0)
    probe.answer(probe.hangs, OK, FAIL)
    probe.run(budget=6.0)
    assert probe.probed()[1] == []  # 5 s for the primary, then a 3 s gap would pass 6 s
    assert probe.clock.sleeps == [] and probe.clock.now <= 6.0


@pytest.mark.parametrize("offset", [0.0, 60.0])
def test_a_fresh_prober_with_a_long_interval_probes_at_once(offset: float) -> None:
    probe = Probe(level=1, retry_interval=120.0, clock=ManualClock(wall=WALL_START + offset))
    probe.run()
    assert probe.probed()[0] == [0.0]
    assert probe.clock.sleeps == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [1]


def test_a_long_interval_is_never_skipped_when_runs_drift() -> None:
    # EventBridge runs about a minute apart; a gap of 62 s made the old test (against
    # now - 60 s) miss the interval that began at 120.
    probe = Probe(level=1, retry_interval=120.0)
    prober = probe.prober()
    for run_at in (0.0, 61.0, 119.0, 181.0, 240.0):
        probe.clock.advance(run_at - probe.clock.now)
        prober.run(budget=55.0)
        assert probe.metrics.gauged(CURRENT_LEVEL, TRACES)[-1] == 1  # reported every run
    assert probe.probed()[0] == [0.0, 181.0, 240.0]


# ------------------------------------------------------------------- order of the levels


def test_levels_are_probed_highest_priority_first_retry_gap_apart() -> None:
    probe = Probe(level=2, retry_gap=3.0)
    probe.prober().probe_once()
    assert probe.probed() == [[0.0], [3.0], []]  # the current level itself is not probed
    assert probe.clock.sleeps == [3.0]


def test_level_2_to_1_when_only_the_secondary_answers() -> None:
    probe = Probe(level=2, successes=1).answer(FAIL, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 2, 1)]
    assert probe.store.states[TRACES].level == 1


def test_level_2_to_0_stops_at_the_primary_without_probing_the_secondary() -> None:
    probe = Probe(level=2, successes=1).answer(OK, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 2, 0)]
    assert probe.probed() == [[0.0], [], []] and probe.clock.sleeps == []


def test_probes_are_single_attempts_of_an_empty_export_with_a_short_deadline() -> None:
    probe = Probe(level=1)
    probe.prober().probe_once()
    (call,) = probe.exporters[0].calls
    assert (call.retry, call.body.signal, call.body.raw) == (False, TRACES, b"")
    assert 0 < call.deadline - time.monotonic() <= PROBE_TIMEOUT


def test_a_canary_probe_sends_one_item() -> None:
    probe = Probe(level=1, request="canary")
    probe.prober().probe_once()
    (body,) = probe.exporters[0].bodies
    assert body.raw and len(body.message.resource_spans[0].scope_spans[0].spans) == 1


# --------------------------------------------------------- consecutive successes to recover


def test_level_1_to_0_on_the_second_probe_in_a_row_the_primary_accepts() -> None:
    probe = Probe(level=1).answer([FAIL, OK], FAIL, FAIL)
    assert probe.run() == [Recovery(TRACES, 1, 0)]
    assert probe.probed()[0] == [0.0, 10.0, 20.0]  # down, up once, up twice: back
    assert probe.store.states[TRACES].level == 0
    assert probe.metrics.total(RECOVERIES, TRACES) == 1


def test_one_lucky_answer_between_failures_moves_nothing() -> None:
    probe = Probe(level=1).answer([OK, FAIL, OK, FAIL], FAIL, FAIL)
    assert probe.run(budget=35.0) == []  # passes at 0, 10, 20, 30
    assert probe.store.states[TRACES].level == 1
    assert probe.metrics.total(RECOVERIES) == 0


def test_a_move_of_the_signal_meanwhile_starts_the_count_again() -> None:
    probe = Probe(level=1).answer(OK, FAIL, FAIL)
    prober = probe.prober()
    assert prober.probe_once() == []  # one success
    # Another instance recovered it and traffic failed it over again: a new epoch.
    probe.store.states[TRACES] = SignalState(1, 0, changed_at=WALL_START + 30)
    assert prober.probe_once() == []  # one success in this epoch, not two
    assert prober.probe_once() == [Recovery(TRACES, 1, 0)]


def test_an_accepted_but_unconfirmed_level_lets_the_pass_go_on_below() -> None:
    probe = Probe(level=2).answer(OK, OK, FAIL)
    prober = probe.prober()
    assert prober.probe_once() == []  # the primary and the secondary: one success each
    assert probe.probed() == [[0.0], [1.0], []]
    assert prober.probe_once() == [Recovery(TRACES, 2, 0)]  # the primary's second
    assert probe.probed() == [[0.0, 1.0], [1.0], []]


def test_a_confirmed_secondary_takes_the_traffic_while_the_primary_is_unconfirmed() -> None:
    probe = Probe(level=2).answer([FAIL, OK], OK, FAIL)
    prober = probe.prober()
    assert prober.probe_once() == []
    assert prober.probe_once() == [Recovery(TRACES, 2, 1)]  # 2nd for the secondary, 1st for 0


@pytest.mark.parametrize(
    ("status", "outcome", "recovers"),
    [
        (200, Outcome.ACCEPTED, True),
        (400, Outcome.REJECTED, True),  # up, and judging payloads
        (413, Outcome.REJECTED, True),
        (401, Outcome.FAILED, False),  # a misconfiguration: traffic would fail there too
        (403, Outcome.FAILED, False),
        (404, Outcome.FAILED, False),
        (429, Outcome.FAILED, False),
        (503, Outcome.FAILED, False),
        (None, Outcome.FAILED, False),  # no answer
    ],
)
def test_what_an_answer_to_the_probe_means(
    status: int | None, outcome: Outcome, recovers: bool
) -> None:
    answer = ExportResult(outcome, "otlphttp/primary", status=status, reason=f"HTTP {status}")
    probe = Probe(level=1, successes=1).answer(answer, FAIL, FAIL)
    assert bool(probe.prober().probe_once()) is recovers


def test_a_level_is_up_only_when_every_exporter_of_it_is() -> None:
    probe = Probe(level=1, successes=1)
    audit = ScriptedExporter("otlphttp/audit", then=FAIL)
    prober = probe.answer(OK, FAIL, FAIL).prober()
    prober.levels = (Level(0, (probe.exporters[0], audit)), *prober.levels[1:])
    assert prober.probe_once() == []
    assert len(audit.calls) == 1


# ------------------------------------------------------------------------- the drain


def test_a_recovery_to_an_otlp_level_with_a_backup_starts_the_drain() -> None:
    probe = Probe(level=2, successes=1).answer(FAIL, OK, OK)
    probe.prober().probe_once()
    assert probe.drains == [TRACES]


def test_a_recovery_without_a_backup_starts_no_drain() -> None:
    probe = Probe(level=1, backup=False, successes=1).answer(OK, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 1, 0)]
    assert probe.drains == []


def test_no_recovery_starts_no_drain() -> None:
    probe = Probe(level=1)
    probe.run()
    assert probe.drains == []


def test_a_recovery_another_instance_made_first_starts_no_drain_here() -> None:
    probe = Probe(level=1, successes=1).answer(OK, OK, OK)
    probe.store.before_next("move", lambda: probe.store.states.update({TRACES: SignalState(0)}))
    assert probe.prober().probe_once() == []
    assert probe.drains == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [1, 0]  # then what the store said


def test_a_stored_level_past_the_chains_end_never_probes_the_backup_level() -> None:
    probe = Probe(level=5).answer(FAIL, FAIL, OK)  # a chain shortened since the item was set
    probe.prober().probe_once()
    assert probe.exporters[0].calls and probe.exporters[1].calls
    assert probe.exporters[2].calls == []  # no probe request written into the backup
