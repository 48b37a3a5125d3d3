"""The template's scheduled functions, run locally: the probe and the drain.

Lambda's async invoke (probe -> drain, drain -> itself) has no local emulator that runs
Python without Docker, so the same core (``Prober``, ``run_drain``) runs here on the
stack's scheduler, and "start the drain" sets it going at once on its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from otlp_failover.drain import DrainLimits
from otlp_failover.drain_run import DrainReport, run_drain
from otlp_failover.drain_store import DrainStore
from otlp_failover.recovery import Prober
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

DRAIN_BUDGET_SECONDS = 60.0  # like a drain Lambda with a short timeout; it continues itself


class LocalOperations:
    def __init__(self, runtime: Runtime, on_drain: Callable[[DrainReport], None] | None = None):
        self.runtime = runtime
        self.drain_store = DrainStore(runtime.dynamodb, runtime.settings.state_table)
        self.prober = Prober(runtime, start_drain=self.start_drain)
        self.limits = DrainLimits(
            rate=runtime.settings.drain_rate, batch_lines=runtime.settings.drain_batch_lines
        )
        self._on_drain = on_drain or (lambda _: None)
        self._drain_lock = threading.Lock()
        self._started: list[threading.Thread] = []

    def probe(self) -> None:
        """One probe cycle (the scheduler runs it every retry_interval)."""
        self.prober.probe_once()
        self.prober.report_backlog()

    def drain(self) -> DrainReport | None:
        """One drain run; skipped when one is already running in this process."""
        if not self._drain_lock.acquire(blocking=False):
            return None
        try:
            while True:
                report = run_drain(
                    self.runtime, self.drain_store, DRAIN_BUDGET_SECONDS, limits=self.limits
                )
                self._on_drain(report)
                if not report.unfinished:  # like the Lambda, continue while time ran out
                    return report
        finally:
            self._drain_lock.release()

    def start_drain(self, signal: Signal) -> None:
        log.info("%s is back on an OTLP level: starting the drain", signal)
        thread = threading.Thread(target=self.drain, name="drain-now", daemon=True)
        self._started = [t for t in self._started if t.is_alive()] + [thread]
        thread.start()

    def join(self, timeout: float = DRAIN_BUDGET_SECONDS) -> None:
        """Wait for drains the probe started, so none outlives the AWS emulator."""
        for thread in self._started:
            thread.join(timeout)
