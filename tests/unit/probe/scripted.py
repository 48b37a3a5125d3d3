"""The Prober under test on a manual clock, with a scripted exporter per level, an
in-memory state store, bucket and metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from otlp_failover.backup.reader import BackupReader
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.failover.rules import Rules
from otlp_failover.failover.state import SignalState
from otlp_failover.probe.prober import Prober, Recovery
from otlp_failover.settings.chain import (
    ExporterConfig,
    FailoverConfig,
    OtlpHttpConfig,
    S3Config,
)
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import LAYOUT
from tests.unit.fakes import (
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
