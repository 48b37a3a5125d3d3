"""DrainJob over fakes: the lease, the level each signal drains into, the continuation when
time runs out, and the metrics of a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import OUT_OF_TIME
from otlp_failover.drain.job import LOCK_MARGIN_SECONDS, DrainJob, DrainReport
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import DEAD_LETTERED, DRAINED_REQUESTS
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import LAYOUT, backlog_keys, seed, sent
from tests.unit.fakes import (
    ExportCall,
    ManualClock,
    MemoryCheckpoints,
    MemoryLease,
    MemoryObjectStore,
    MemoryStateStore,
    RecordingMetrics,
    ScriptedExporter,
)

TRACES, METRICS, LOGS = Signal.TRACES, Signal.METRICS, Signal.LOGS
LIMITS = DrainLimits(rate=1_000_000.0, readers=2)


@dataclass
class Job:
    """A job over three levels (two OTLP, then the backup) and the fakes it runs against."""

    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryObjectStore = field(default_factory=MemoryObjectStore)
    state: MemoryStateStore = field(default_factory=MemoryStateStore)
    lease: MemoryLease = field(default_factory=MemoryLease)
    checkpoints: MemoryCheckpoints = field(default_factory=MemoryCheckpoints)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    primary: ScriptedExporter = field(default_factory=lambda: ScriptedExporter("otlphttp/p"))
    secondary: ScriptedExporter = field(default_factory=lambda: ScriptedExporter("otlphttp/s"))
    continued: list[Sequence[Signal]] = field(default_factory=list)

    def job(self, *, backup: bool = True, can_continue: bool = True) -> DrainJob:
        levels = [
            Level(0, (self.primary,)),
            Level(1, (self.secondary,)),
            Level(2, (ScriptedExporter("s3/backup"),)),
        ]
        return DrainJob(
            backup=BackupReader(self.store, LAYOUT) if backup else None,
            state=self.state,
            levels=levels,
            otlp_levels=[0, 1],
            lease=self.lease,
            checkpoints=self.checkpoints,
            limits=LIMITS,
            metrics=self.metrics,
            continue_later=self.continue_later if can_continue else None,
            clock=self.clock,
        )

    def continue_later(self, signals: Sequence[Signal]) -> bool:
        self.continued.append(signals)
        return True

    def run(self, budget: float = 60.0, **options: bool) -> DrainReport:
        return self.job(**options).run(budget)


def slow(job: Job, seconds: float) -> ScriptedExporter:
    """A primary whose every answer takes ``seconds`` on the job's clock."""

    def answer(_: ExportCall) -> Outcome:
        job.clock.advance(seconds)
        return Outcome.ACCEPTED

    return ScriptedExporter("otlphttp/p", script=answer)


def test_a_lease_held_by_another_drain_means_this_one_does_not_run() -> None:
    job = Job(lease=MemoryLease(held_by_other=True))
    seed(job.store, ["a0"])
    report = job.run()
    assert (report.ran, report.skipped) == (False, {"*": "another drain is running"})
    assert job.primary.calls == [] and job.state.calls == []


def test_no_backup_level_means_nothing_to_run() -> None:
    job = Job()
    report = job.run(backup=False)
    assert (report.ran, report.skipped) == (False, {"*": "the chain has no S3 backup level"})
    assert job.lease.acquired == []


def test_the_lease_outlives_the_budget_and_is_released_after_the_run() -> None:
    job = Job()
    seed(job.store, ["a0"])
    assert job.run(budget=60.0).ran
    assert job.lease.acquired == [60.0 + LOCK_MARGIN_SECONDS] and not job.lease.held


def test_a_lease_that_fails_to_release_does_not_fail_the_run() -> None:
    job = Job()
    job.lease.release_error = True
    seed(job.store, ["a0"])
    report = job.run()
    assert report.ran and [t.lines for t in report.tallies if t.signal is TRACES] == [1]


def test_each_signal_drains_into_its_current_otlp_level_and_others_are_skipped() -> None:
    job = Job()
    job.state.states.update({TRACES: SignalState(2), LOGS: SignalState(1)})
    traces = seed(job.store, ["t0"], signal=TRACES)
    seed(job.store, ["l0"], signal=LOGS)
    seed(job.store, ["m0"], signal=METRICS)
    report = job.run()
    assert report.skipped == {"traces": "level 2 is not an OTLP level"}
    assert sent(job.secondary) == [["l0"]] and sent(job.primary) == [["m0"]]
    assert backlog_keys(job.store, TRACES) == traces
    assert not report.unfinished and job.continued == []


def test_an_unfinished_run_continues_later_with_its_signals() -> None:
    job = Job()
    job.primary = slow(job, 61.0)  # the first POST uses the whole budget
    seed(job.store, ["t0"], signal=TRACES)
    seed(job.store, ["l0"], signal=LOGS)
    report = job.job().run(60.0, signals=[TRACES, LOGS])
    assert report.skipped == {"logs": OUT_OF_TIME}
    assert report.unfinished and report.continued
    assert job.continued == [[TRACES, LOGS]]
    assert backlog_keys(job.store, LOGS) != []


def test_an_unfinished_run_without_a_continuation_says_so_in_the_report() -> None:
    job = Job()
    job.primary = slow(job, 61.0)
    seed(job.store, ["t0"], signal=TRACES)
    report = job.job(can_continue=False).run(60.0, signals=[TRACES, LOGS])
    assert report.unfinished and not report.continued


def test_a_finished_run_does_not_continue() -> None:
    job = Job()
    seed(job.store, ["t0", "t1"], signal=TRACES)
    report = job.run()
    assert report.ran and not report.unfinished
    assert (report.continued, job.continued) == (False, [])


def test_a_run_counts_drained_and_dead_lettered_requests_per_signal_and_flushes() -> None:
    job = Job()
    seed(job.store, ["t0", b"{broken", "t2"], signal=TRACES)
    seed(job.store, ["l0"], signal=LOGS)
    job.run()
    assert job.metrics.total(DRAINED_REQUESTS, TRACES) == 2
    assert job.metrics.total(DEAD_LETTERED, TRACES) == 1
    assert job.metrics.total(DRAINED_REQUESTS, LOGS) == 1
    assert job.metrics.total(DEAD_LETTERED, LOGS) == 0
    assert job.metrics.flushes == 1


def test_a_job_paces_its_drainers_on_the_clock_it_is_given() -> None:
    job = Job()
    seed(job.store, ["t0", "t1", "t2"], signal=TRACES)
    drain = DrainJob(
        backup=BackupReader(job.store, LAYOUT),
        state=job.state,
        levels=[Level(0, (job.primary,))],
        otlp_levels=[0],
        lease=job.lease,
        checkpoints=job.checkpoints,
        limits=DrainLimits(rate=2.0, batch_lines=1),
        metrics=job.metrics,
        clock=job.clock,
        sleep=job.clock.sleep,
    )
    drain.run(60.0, signals=[TRACES])
    assert job.clock.sleeps == [0.5, 0.5]
