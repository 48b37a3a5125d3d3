"""The drain's coordinator: which units (signal, shard) wait, and the workers that drain them.

On Lambda the coordinator (the schedule, or the probe on recovery) ``dispatch``es: it
starts one worker invocation per group of units, at most ``concurrency`` of them, and each
worker (``work``) paces itself at its share of ``DrainRate``. The local stack and
``otlp-failover drain`` ``run`` the same workers as threads of one process sharing one pacer.
Units are dealt smallest first and round the workers, so a small backlog of one signal
never waits behind a large backlog of another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import DrainTally
from otlp_failover.drain.pacer import Pacer
from otlp_failover.drain.ports import CheckpointStore, DrainLeases, DrainUnit
from otlp_failover.drain.worker import DrainReport, DrainWorker
from otlp_failover.errors import BackupError
from otlp_failover.failover.levels import Level
from otlp_failover.failover.ports import StateStore
from otlp_failover.metrics import Metrics
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

PLAN_SECONDS = 10.0  # the most a coordinator spends listing which shards wait
NO_BACKUP = "the chain has no S3 backup level"


def deal(sizes: dict[DrainUnit, int], workers: int) -> list[list[DrainUnit]]:
    """The units (with their backlog sizes) for at most ``workers`` workers: smallest first,
    dealt round the workers, so every worker starts with the small ones."""
    ordered = sorted(sizes, key=lambda unit: (sizes[unit], unit))
    count = max(1, min(workers, len(ordered)))
    return [group for group in (ordered[i::count] for i in range(count)) if group]


@dataclass
class DrainPlan:
    groups: list[list[DrainUnit]] = field(default_factory=list)  # one per worker
    skipped: dict[str, str] = field(default_factory=dict)  # signal -> why it is not drained


class DrainJob:
    """``continue_later`` is called with the units left when a run ends out of time (the
    drain Lambda invokes itself); without it the caller loops on ``unfinished``."""

    def __init__(
        self,
        *,
        backup: BackupReader | None,
        state: StateStore,
        levels: Sequence[Level],
        otlp_levels: Sequence[int],
        leases: DrainLeases,
        checkpoints: CheckpointStore,
        limits: DrainLimits,
        metrics: Metrics,
        continue_later: Callable[[Sequence[DrainUnit]], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backup = backup
        self._state = state
        self.levels = tuple(levels)
        self._otlp_levels = frozenset(otlp_levels)
        self._leases = leases
        self._checkpoints = checkpoints
        self.limits = limits
        self._metrics = metrics
        self._continue_later = continue_later
        self._clock = clock
        self._sleep = sleep

    def plan(self, signals: Sequence[Signal] = tuple(Signal)) -> DrainPlan:
        """The waiting units of the signals whose level is an OTLP one, dealt to workers."""
        plan = DrainPlan()
        if self.backup is None:
            return plan
        sizes: dict[DrainUnit, int] = {}
        for signal in signals:
            level = self._state.read(signal).level
            if level not in self._otlp_levels:
                plan.skipped[signal.value] = f"level {level} is not an OTLP level"
                continue
            try:
                backlog = self.backup.backlog(signal, max_seconds=PLAN_SECONDS, clock=self._clock)
            except BackupError as exc:
                log.warning("the %s backlog cannot be listed: %s", signal, exc)
                plan.skipped[signal.value] = str(exc)
                continue
            sizes.update({DrainUnit(signal, s): n for s, n in backlog.shards.items()})
        plan.groups = deal(sizes, self.limits.concurrency)
        return plan

    def dispatch(
        self,
        start_worker: Callable[[Sequence[DrainUnit]], bool],
        signals: Sequence[Signal] = tuple(Signal),
    ) -> list[list[DrainUnit]]:
        """Start one worker per group of waiting units; returns the groups started."""
        started = []
        for group in self.plan(signals).groups:
            if start_worker(group):
                started.append(group)
            else:
                log.warning(
                    "a drain worker for %s could not be started", ", ".join(map(str, group))
                )
        return started

    def work(
        self,
        units: Sequence[DrainUnit],
        budget: float,
        on_progress: Callable[[DrainTally], None] = lambda _: None,
    ) -> DrainReport:
        """One worker on Lambda: its units, at its share of the total rate."""
        if self.backup is None:
            return DrainReport(ran=False, skipped={"*": NO_BACKUP})
        pacer = Pacer(self.limits.worker_rate, self._clock, self._sleep)
        report = self._worker(self.backup, pacer, on_progress).run(units, self._clock() + budget)
        return self._finish(report)

    def run(
        self,
        budget: float,
        signals: Sequence[Signal] = tuple(Signal),
        on_progress: Callable[[DrainTally], None] = lambda _: None,
    ) -> DrainReport:
        """Plan, then run the workers side by side in this process, sharing the total rate."""
        if self.backup is None:
            return DrainReport(ran=False, skipped={"*": NO_BACKUP})
        deadline = self._clock() + budget
        plan = self.plan(signals)
        groups = plan.groups
        report = DrainReport(ran=True, skipped=dict(plan.skipped))
        if groups:
            pacer = Pacer(self.limits.rate, self._clock, self._sleep)
            worker = self._worker(self.backup, pacer, on_progress)
            with ThreadPoolExecutor(len(groups), thread_name_prefix="drain-worker") as pool:
                for part in pool.map(lambda group: worker.run(group, deadline), groups):
                    report.merge(part)
        return self._finish(report)

    def _worker(
        self, backup: BackupReader, pacer: Pacer, on_progress: Callable[[DrainTally], None]
    ) -> DrainWorker:
        return DrainWorker(
            backup=backup,
            state=self._state,
            levels=self.levels,
            otlp_levels=self._otlp_levels,
            leases=self._leases,
            checkpoints=self._checkpoints,
            limits=self.limits,
            pacer=pacer,
            metrics=self._metrics,
            clock=self._clock,
            on_progress=on_progress,
        )

    def _finish(self, report: DrainReport) -> DrainReport:
        self._metrics.flush()
        if report.unfinished and self._continue_later is not None:
            report.continued = self._continue_later(report.left)
        return report
