"""The Drainer under test with every fake it talks to (a dict bucket, in-memory
checkpoints, a scripted backend on a manual clock), sharing one journal."""

from __future__ import annotations

from dataclasses import dataclass, field

from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import Drainer, DrainTally
from otlp_failover.drain.pacer import Pacer
from otlp_failover.drain.sender import BatchSender
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import LAYOUT, UNIT, names
from tests.unit.fakes import (
    Answer,
    ExportCall,
    ManualClock,
    MemoryCheckpoints,
    MemoryObjectStore,
    ScriptedExporter,
)

TRACES = Signal.TRACES
FAST = 1_000_000.0  # requests per second: pacing never gets in the way
DEFAULT = DrainLimits()


@dataclass
class Drain:
    """A drainer with every fake it talks to, sharing one journal."""

    journal: list[str] = field(default_factory=list)
    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryObjectStore = field(init=False)
    checkpoints: MemoryCheckpoints = field(init=False)

    def __post_init__(self) -> None:
        self.store = MemoryObjectStore(journal=self.journal)
        self.checkpoints = MemoryCheckpoints(journal=self.journal)

    def run(
        self,
        backend: ScriptedExporter,
        deadline: float = 600.0,
        *,
        batch_lines: int = DEFAULT.batch_lines,
        batch_bytes: int = DEFAULT.batch_bytes,
        rate: float = FAST,
        read_ahead_bytes: int = DEFAULT.read_ahead_bytes,
    ) -> DrainTally:
        backend.journal = self.journal
        pacer = Pacer(rate, self.clock, self.clock.sleep)
        drainer = Drainer(
            UNIT,
            BatchSender(TRACES, Level(0, (backend,)), pacer, batch_bytes),
            BackupReader(self.store, LAYOUT),
            self.checkpoints,
            limits=DrainLimits(
                rate, batch_lines, batch_bytes, read_ahead_bytes=read_ahead_bytes, readers=2
            ),
            clock=self.clock,
        )
        return drainer.run(deadline)


def backend(*answers: Answer) -> ScriptedExporter:
    return ScriptedExporter("otlphttp/primary", answers)


def refusing(bad: str) -> ScriptedExporter:
    """A backend that refuses (400) every request holding an item named ``bad``."""

    def answer(call: ExportCall) -> Outcome:
        return Outcome.REJECTED if bad in names(call.body.message) else Outcome.ACCEPTED

    return ScriptedExporter("otlphttp/primary", script=answer)
