"""One drain worker: its units one after another, each under the unit's own lease."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import OUT_OF_TIME, SEND_MARGIN_SECONDS, Drainer, DrainTally
from otlp_failover.drain.pacer import Pacer
from otlp_failover.drain.ports import CheckpointStore, DrainLeases, DrainUnit
from otlp_failover.drain.sender import BatchSender
from otlp_failover.errors import StateStoreError
from otlp_failover.failover.levels import Level
from otlp_failover.failover.ports import StateStore
from otlp_failover.metrics import DEAD_LETTERED, DRAINED_REQUESTS, Metrics
from otlp_failover.settings.environment import DrainLimits

log = logging.getLogger(__name__)

LOCK_MARGIN_SECONDS = 60.0  # a lease outlives its run, so a crash frees it soon after
LEASE_HELD = "another drain holds its lease (asked to run it again)"


@dataclass
class DrainReport:
    ran: bool  # False when there is no backup to drain
    tallies: list[DrainTally] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # unit or signal -> why not drained
    left: list[DrainUnit] = field(default_factory=list)  # units the time budget did not reach
    continued: bool = False  # a continuation was started for what is left

    @property
    def unfinished(self) -> bool:
        """A run that ran out of time with backlog left: it should continue itself."""
        return bool(self.left)

    def merge(self, other: DrainReport) -> None:
        self.tallies += other.tallies
        self.skipped.update(other.skipped)
        self.left += other.left


@dataclass
class DrainWorker:
    backup: BackupReader
    state: StateStore
    levels: Sequence[Level]
    otlp_levels: frozenset[int]
    leases: DrainLeases
    checkpoints: CheckpointStore
    limits: DrainLimits
    pacer: Pacer
    metrics: Metrics
    clock: Callable[[], float] = time.monotonic
    on_progress: Callable[[DrainTally], None] = lambda _: None

    def run(self, units: Sequence[DrainUnit], deadline: float) -> DrainReport:
        report = DrainReport(ran=True)
        queue = deque(units)
        while queue:
            if self.clock() >= deadline - SEND_MARGIN_SECONDS:
                report.left += queue
                break
            unit = queue.popleft()
            tally, asked_again = self._drain(unit, deadline, report)
            if tally is None:
                continue
            if tally.stopped == OUT_OF_TIME:
                report.left += [unit, *queue]
                break
            if asked_again and not tally.stopped:
                queue.appendleft(unit)  # objects may have come since its listing ended
        return report

    def _drain(
        self, unit: DrainUnit, deadline: float, report: DrainReport
    ) -> tuple[DrainTally | None, bool]:
        level = self.state.read(unit.signal).level
        if level not in self.otlp_levels:
            report.skipped[str(unit)] = f"level {level} is not an OTLP level"
            return None, False
        if not self.leases.acquire(unit, deadline - self.clock() + LOCK_MARGIN_SECONDS):
            log.info("drain of %s: %s", unit, LEASE_HELD)
            report.skipped[str(unit)] = LEASE_HELD
            return None, False
        try:
            sender = BatchSender(
                unit.signal, self.levels[level], self.pacer, self.limits.batch_bytes
            )
            drainer = Drainer(
                unit,
                sender,
                self.backup,
                self.checkpoints,
                limits=self.limits,
                clock=self.clock,
                on_progress=self.on_progress,
            )
            tally = drainer.run(deadline)
        finally:
            asked_again = self._release(unit)
        report.tallies.append(tally)
        self.metrics.count(DRAINED_REQUESTS, unit.signal, tally.lines)
        self.metrics.count(DEAD_LETTERED, unit.signal, tally.dead_lettered)
        log.info(
            "drained %s: %d objects, %d requests, %d set aside%s",
            unit,
            tally.objects,
            tally.lines,
            tally.dead_lettered,
            f"; stopped: {tally.stopped}" if tally.stopped else "",
        )
        return tally, asked_again

    def _release(self, unit: DrainUnit) -> bool:
        try:
            return self.leases.release(unit)
        except StateStoreError as exc:
            # The lease expires by itself; the run's own outcome (or error) matters more.
            log.warning("%s; the lease frees itself when it ends", exc)
            return False
