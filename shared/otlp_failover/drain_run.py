"""One drain run over the signals: the lock, the target level, the tallies and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from otlp_failover.backup_reader import BackupReader
from otlp_failover.drain import DEFAULT_LIMITS, OUT_OF_TIME, Drainer, DrainLimits, DrainTally
from otlp_failover.drain_store import DrainStore
from otlp_failover.errors import StateStoreError
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal
from otlp_failover.telemetry import DEAD_LETTERED, DRAINED_REQUESTS

log = logging.getLogger(__name__)

LOCK_MARGIN_SECONDS = 60.0  # the lease outlives the run, so a crash frees it soon after


@dataclass
class DrainReport:
    ran: bool  # False when another drain held the lock or there is no backup
    tallies: list[DrainTally] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # signal -> why it was not drained

    @property
    def unfinished(self) -> bool:
        """A run that ran out of time with backlog left: it should continue itself."""
        reasons = [t.stopped for t in self.tallies] + list(self.skipped.values())
        return OUT_OF_TIME in reasons


def run_drain(
    runtime: Runtime,
    store: DrainStore,
    budget: float,
    *,
    signals: Sequence[Signal] = tuple(Signal),
    limits: DrainLimits = DEFAULT_LIMITS,
    on_progress: Callable[[DrainTally], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
) -> DrainReport:
    backup = runtime.backup
    if backup is None:
        return DrainReport(ran=False, skipped={"*": "the chain has no S3 backup level"})
    if not store.acquire(budget + LOCK_MARGIN_SECONDS):
        log.info("another drain is running; this one stops")
        return DrainReport(ran=False, skipped={"*": "another drain is running"})
    deadline = clock() + budget
    report = DrainReport(ran=True)
    try:
        reader = BackupReader(runtime.s3, *backup)
        for signal in signals:
            level = runtime.store.read(signal).level
            if level not in runtime.settings.failover.otlp_levels:
                report.skipped[signal.value] = f"level {level} is not an OTLP level"
                continue
            drainer = Drainer(
                signal, runtime.levels[level], reader, store, limits=limits, on_progress=on_progress
            )
            tally = drainer.run(deadline)
            report.tallies.append(tally)
            runtime.telemetry.count(DRAINED_REQUESTS, signal, tally.lines)
            runtime.telemetry.count(DEAD_LETTERED, signal, tally.dead_lettered)
            log.info(
                "drained %s: %d objects, %d requests, %d set aside%s",
                signal,
                tally.objects,
                tally.lines,
                tally.dead_lettered,
                f"; stopped: {tally.stopped}" if tally.stopped else "",
            )
            if clock() >= deadline:
                remaining = [s for s in signals if s.value not in report.skipped]
                for later in remaining[remaining.index(signal) + 1 :]:
                    report.skipped[later.value] = OUT_OF_TIME
                break
    finally:
        try:
            store.release()
        except StateStoreError as exc:
            # The lease expires by itself; the run's own outcome (or error) matters more.
            log.warning("%s; the lock frees itself when its lease ends", exc)
        runtime.telemetry.flush()
    return report
