"""One drain run over the signals: the lease, the target level, the tallies and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import OUT_OF_TIME, Drainer, DrainTally
from otlp_failover.drain.ports import CheckpointStore, DrainLease
from otlp_failover.errors import StateStoreError
from otlp_failover.failover.levels import Level
from otlp_failover.failover.ports import StateStore
from otlp_failover.metrics import DEAD_LETTERED, DRAINED_REQUESTS, Metrics
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

LOCK_MARGIN_SECONDS = 60.0  # the lease outlives the run, so a crash frees it soon after


@dataclass
class DrainReport:
    ran: bool  # False when another drain held the lock or there is no backup
    tallies: list[DrainTally] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # signal -> why it was not drained
    continued: bool = False  # a continuation was started for what is left

    @property
    def unfinished(self) -> bool:
        """A run that ran out of time with backlog left: it should continue itself."""
        reasons = [t.stopped for t in self.tallies] + list(self.skipped.values())
        return OUT_OF_TIME in reasons


class DrainJob:
    """Replays each signal's backlog into its current OTLP level, under one lease.

    ``continue_later`` is called with the signals when a run ends out of time with backlog
    left (the drain Lambda invokes itself); without it the caller loops on ``unfinished``.
    """

    def __init__(
        self,
        *,
        backup: BackupReader | None,
        state: StateStore,
        levels: Sequence[Level],
        otlp_levels: Sequence[int],
        lease: DrainLease,
        checkpoints: CheckpointStore,
        limits: DrainLimits,
        metrics: Metrics,
        continue_later: Callable[[Sequence[Signal]], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backup = backup
        self._state = state
        self.levels = tuple(levels)
        self._otlp_levels = frozenset(otlp_levels)
        self._lease = lease
        self._checkpoints = checkpoints
        self.limits = limits
        self._metrics = metrics
        self._continue_later = continue_later
        self._clock = clock
        self._sleep = sleep

    def run(
        self,
        budget: float,
        signals: Sequence[Signal] = tuple(Signal),
        on_progress: Callable[[DrainTally], None] = lambda _: None,
    ) -> DrainReport:
        if self.backup is None:
            return DrainReport(ran=False, skipped={"*": "the chain has no S3 backup level"})
        if not self._lease.acquire(budget + LOCK_MARGIN_SECONDS):
            log.info("another drain is running; this one stops")
            return DrainReport(ran=False, skipped={"*": "another drain is running"})
        deadline = self._clock() + budget
        report = DrainReport(ran=True)
        try:
            self._drain_signals(self.backup, signals, deadline, report, on_progress)
        finally:
            try:
                self._lease.release()
            except StateStoreError as exc:
                # The lease expires by itself; the run's own outcome (or error) matters more.
                log.warning("%s; the lock frees itself when its lease ends", exc)
            self._metrics.flush()
        if report.unfinished and self._continue_later is not None:
            report.continued = self._continue_later(signals)
        return report

    def _drain_signals(
        self,
        backup: BackupReader,
        signals: Sequence[Signal],
        deadline: float,
        report: DrainReport,
        on_progress: Callable[[DrainTally], None],
    ) -> None:
        for position, signal in enumerate(signals):
            level = self._state.read(signal).level
            if level not in self._otlp_levels:
                report.skipped[signal.value] = f"level {level} is not an OTLP level"
                continue
            drainer = Drainer(
                signal,
                self.levels[level],
                backup,
                self._checkpoints,
                limits=self.limits,
                on_progress=on_progress,
                clock=self._clock,
                sleep=self._sleep,
            )
            tally = drainer.run(deadline)
            report.tallies.append(tally)
            self._metrics.count(DRAINED_REQUESTS, signal, tally.lines)
            self._metrics.count(DEAD_LETTERED, signal, tally.dead_lettered)
            log.info(
                "drained %s: %d objects, %d requests, %d set aside%s",
                signal,
                tally.objects,
                tally.lines,
                tally.dead_lettered,
                f"; stopped: {tally.stopped}" if tally.stopped else "",
            )
            if self._clock() >= deadline:
                for later in signals[position + 1 :]:
                    report.skipped.setdefault(later.value, OUT_OF_TIME)
                return
