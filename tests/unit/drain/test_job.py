"""DrainJob over fakes: the plan (which units wait, dealt to workers), the leases, the level
each signal drains into, workers side by side, the continuation, the shared rate, metrics."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import OUT_OF_TIME
from otlp_failover.drain.job import DrainJob, deal
from otlp_failover.drain.ports import DrainUnit
from otlp_failover.drain.worker import LEASE_HELD, LOCK_MARGIN_SECONDS, DrainReport
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import DEAD_LETTERED, DRAINED_REQUESTS
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import LAYOUT, MOMENT, backlog_keys, line, names, seed, sent
from tests.unit.fakes import (
    ExportCall,
    ManualClock,
    MemoryCheckpoints,
    MemoryLeases,
    MemoryObjectStore,
    MemoryStateStore,
    RecordingMetrics,
    ScriptedExporter,
)

TRACES, METRICS, LOGS = Signal.TRACES, Signal.METRICS, Signal.LOGS
LIMITS = DrainLimits(rate=1_000_000.0, readers=2)


def unit(signal: Signal, shard: str = "s00") -> DrainUnit:
    return DrainUnit(signal, shard)


@dataclass
class Job:
    """A job over three levels (two OTLP, then the backup) and the fakes it runs against."""

    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryObjectStore = field(default_factory=MemoryObjectStore)
    state: MemoryStateStore = field(default_factory=MemoryStateStore)
    leases: MemoryLeases = field(default_factory=MemoryLeases)
    checkpoints: MemoryCheckpoints = field(default_factory=MemoryCheckpoints)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    primary: ScriptedExporter = field(default_factory=lambda: ScriptedExporter("otlphttp/p"))
    secondary: ScriptedExporter = field(default_factory=lambda: ScriptedExporter("otlphttp/s"))
    continued: list[Sequence[DrainUnit]] = field(default_factory=list)

    def job(
        self, *, backup: bool = True, can_continue: bool = True, limits: DrainLimits = LIMITS
    ) -> DrainJob:
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
            leases=self.leases,
            checkpoints=self.checkpoints,
            limits=limits,
            metrics=self.metrics,
            continue_later=self.continue_later if can_continue else None,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def continue_later(self, units: Sequence[DrainUnit]) -> bool:
        self.continued.append(list(units))
        return True

    def run(
        self, budget: float = 60.0, *, backup: bool = True, limits: DrainLimits = LIMITS
    ) -> DrainReport:
        return self.job(backup=backup, limits=limits).run(budget)


def slow(job: Job, seconds: float) -> ScriptedExporter:
    """A primary whose every answer takes ``seconds`` on the job's clock."""

    def answer(_: ExportCall) -> Outcome:
        job.clock.advance(seconds)
        return Outcome.ACCEPTED

    return ScriptedExporter("otlphttp/p", script=answer)


def test_units_are_dealt_smallest_first_round_at_most_the_workers() -> None:
    sizes = {unit(TRACES, f"s0{n}"): 1000 + n for n in range(5)} | {unit(LOGS, "s03"): 2}
    groups = deal(sizes, workers=3)
    assert len(groups) == 3
    assert groups[0][0] == unit(LOGS, "s03")  # the small backlog goes first
    assert sorted(u for g in groups for u in g) == sorted(sizes)
    assert deal({unit(TRACES): 5}, workers=8) == [[unit(TRACES)]]
    assert deal({}, workers=8) == []


def test_the_plan_has_one_unit_per_waiting_shard_of_each_signal_on_an_otlp_level() -> None:
    job = Job()
    job.state.states[METRICS] = SignalState(2)
    seed(job.store, ["t0"], ["t1"], signal=TRACES, shard="s01")
    seed(job.store, ["t2"], signal=TRACES, shard="s03")
    seed(job.store, ["m0"], signal=METRICS)
    plan = job.job().plan()
    assert sorted(u for g in plan.groups for u in g) == [unit(TRACES, "s01"), unit(TRACES, "s03")]
    assert plan.skipped == {"metrics": "level 2 is not an OTLP level"}


def test_keys_of_the_older_unsharded_layout_are_drained_too() -> None:
    job = Job()
    old = "backup/traces/2026/11/27/09/20261127T090000.000000Z-old.jsonl"
    job.store.put(old, seed_line("old0"), "application/x-ndjson", {})
    seed(job.store, ["new0"], signal=TRACES, shard="s02")
    job.run()
    assert sorted(n for names_ in sent(job.primary) for n in names_) == ["new0", "old0"]
    assert backlog_keys(job.store) == []


def seed_line(name: str) -> bytes:
    return line(name) + b"\n"


def test_no_backup_level_means_nothing_to_run() -> None:
    job = Job()
    report = job.run(backup=False)
    assert (report.ran, report.skipped) == (False, {"*": "the chain has no S3 backup level"})
    assert job.leases.acquired == []


def test_a_unit_whose_lease_is_held_is_skipped_and_its_holder_asked_to_go_again() -> None:
    job = Job()
    job.leases.held_by_other = {unit(TRACES, "s01")}
    seed(job.store, ["a0"], signal=TRACES, shard="s01")
    seed(job.store, ["b0"], signal=TRACES, shard="s02")
    report = job.run()
    assert report.skipped == {"traces/s01": LEASE_HELD}
    assert sent(job.primary) == [["b0"]]
    assert job.leases.asked_again == {unit(TRACES, "s01")}


def test_a_unit_asked_for_while_it_drains_is_drained_again_at_once() -> None:
    job = Job()
    seed(job.store, ["a0"], signal=TRACES)

    def first_answer_brings_more(call: ExportCall) -> Outcome:
        if names(call.body.message) == ["a0"]:
            job.store.put(
                LAYOUT.new_key(TRACES, MOMENT + timedelta(hours=1), "late", "s00"),
                seed_line("late0"),
                "application/x-ndjson",
                {},
            )
            assert not job.leases.acquire(unit(TRACES), 60.0)  # a second drain, refused
        return Outcome.ACCEPTED

    job.primary = ScriptedExporter("otlphttp/p", script=first_answer_brings_more)
    job.run()
    assert sent(job.primary) == [["a0"], ["late0"]]
    assert backlog_keys(job.store) == [] and job.leases.held == set()


def test_each_lease_outlives_the_budget_and_is_released_after_its_unit() -> None:
    job = Job()
    seed(job.store, ["a0"])
    assert job.run(budget=60.0).ran
    assert job.leases.acquired == [(unit(TRACES), 60.0 + LOCK_MARGIN_SECONDS)]
    assert job.leases.held == set()


def test_a_lease_that_fails_to_release_does_not_fail_the_run() -> None:
    job = Job()
    job.leases.release_error = True
    seed(job.store, ["a0"])
    report = job.run()
    assert report.ran and [t.lines for t in report.tallies if t.unit.signal is TRACES] == [1]


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


def test_a_small_logs_backlog_does_not_wait_for_a_large_traces_backlog() -> None:
    """The traces backend holds every traces batch until the logs arrive (or 5 s pass):
    drained one signal after the other, traces first, the logs would come last."""
    job = Job()
    seed(job.store, *[[f"t{n}"] for n in range(30)], signal=TRACES)
    seed(job.store, ["l0"], signal=LOGS)
    logs_delivered = threading.Event()
    order: list[str] = []

    def answer(call: ExportCall) -> Outcome:
        if call.body.signal is LOGS:
            order.append("logs")
            logs_delivered.set()
        else:
            logs_delivered.wait(5.0)
            order.append("traces")
        return Outcome.ACCEPTED

    job.primary = ScriptedExporter("otlphttp/p", script=answer)
    job.run(limits=DrainLimits(rate=1_000_000.0, batch_lines=5, readers=2))
    assert order[0] == "logs" and order.count("traces") == 6


def test_an_unfinished_run_continues_later_with_the_units_left() -> None:
    job = Job()
    job.primary = slow(job, 61.0)  # the first POST uses the whole budget
    seed(job.store, ["t0"], ["t1"], signal=TRACES)
    report = job.job(limits=DrainLimits(rate=1_000_000.0, batch_lines=1)).run(60.0, [TRACES])
    assert report.unfinished and report.continued
    assert job.continued == [[unit(TRACES)]]
    assert [t.stopped for t in report.tallies] == [OUT_OF_TIME]
    assert len(backlog_keys(job.store)) >= 1


def test_an_unfinished_run_without_a_continuation_says_so_in_the_report() -> None:
    job = Job()
    job.primary = slow(job, 61.0)
    seed(job.store, ["t0"], ["t1"], signal=TRACES)
    report = job.job(can_continue=False, limits=DrainLimits(batch_lines=1)).run(60.0, [TRACES])
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


def test_workers_in_one_process_share_the_total_rate() -> None:
    job = Job()
    seed(job.store, ["t0", "t1", "t2"], signal=TRACES)
    limits = DrainLimits(rate=2.0, batch_lines=1, concurrency=4)
    job.job(limits=limits).run(60.0, signals=[TRACES])
    assert job.clock.sleeps == [0.5, 0.5]


def test_a_lambda_worker_paces_itself_at_its_share_of_the_rate() -> None:
    job = Job()
    seed(job.store, ["t0", "t1", "t2"], signal=TRACES)
    limits = DrainLimits(rate=2.0, batch_lines=1, concurrency=4)
    job.job(limits=limits).work([unit(TRACES)], 60.0)
    assert job.clock.sleeps == [2.0, 2.0]  # 2 requests/s shared by 4 workers


def test_dispatch_starts_one_worker_per_group_of_waiting_units() -> None:
    job = Job()
    for shard in ("s00", "s01", "s02"):
        seed(job.store, ["t"], signal=TRACES, shard=shard)
    seed(job.store, ["l"], signal=LOGS, shard="s03")
    started: list[list[DrainUnit]] = []

    def start_worker(group: Sequence[DrainUnit]) -> bool:
        started.append(list(group))
        return True

    groups = job.job(limits=DrainLimits(concurrency=3)).dispatch(start_worker)
    assert groups == started and len(started) == 3
    assert sorted(u for g in started for u in g) == sorted(
        [unit(TRACES, "s00"), unit(TRACES, "s01"), unit(TRACES, "s02"), unit(LOGS, "s03")]
    )
    assert job.primary.calls == []  # the coordinator sends nothing itself
