"""The template's scheduled functions, run locally: the probe and the drain.

Lambda's async invoke (probe -> drain, drain -> itself) has no local emulator that runs
Python without Docker, so the same core (``Prober``, ``DrainJob``) runs here on the
stack's scheduler, and "start the drain" sets it going at once on its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from otlp_failover.drain.job import DrainReport
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

DRAIN_BUDGET_SECONDS = 60.0  # like a drain Lambda with a short timeout; it continues itself


class LocalOperations:
    def __init__(self, runtime: Runtime, on_drain: Callable[[DrainReport], None] | None = None):
        self.runtime = runtime
        self.prober = runtime.prober(start_drain=self.start_drain)
        self.drain_job = runtime.drain_job()
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
                report = self.drain_job.run(DRAIN_BUDGET_SECONDS)
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
