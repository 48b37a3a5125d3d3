"""The template's scheduled functions, run locally: the probe and the drain.

Lambda's async invoke (probe -> drain, drain -> itself) has no local emulator that runs
Python without Docker, so the same core (``Prober``, ``DrainJob``) runs here on the
stack's scheduler, and "start the drain" sets it going at once on its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from otlp_failover.drain.worker import DrainReport
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
        self._asked_again = threading.Event()  # a start while a drain ran: run once more
        self._started: list[threading.Thread] = []
        # The probe works the signals side by side: several may start a drain at once.
        self._started_lock = threading.Lock()

    def probe(self) -> None:
        """One probe cycle (the scheduler runs it every retry_interval)."""
        self.prober.probe_once()
        self.prober.report_backlog()

    def drain(self) -> DrainReport | None:
        """One drain run, its workers side by side. A start while one runs in this process
        is recorded, not dropped: the running drain goes round once more."""
        if not self._drain_lock.acquire(blocking=False):
            self._asked_again.set()
            return None
        try:
            while True:
                self._asked_again.clear()
                report = self.drain_job.run(DRAIN_BUDGET_SECONDS)
                self._on_drain(report)
                # Like the Lambda, continue while time ran out; and go round once more when a
                # start came meanwhile, unless this round found nothing waiting (so callers
                # that keep asking cannot keep it running).
                asked = self._asked_again.is_set() and bool(report.tallies)
                if not report.unfinished and not asked:
                    return report
        finally:
            self._drain_lock.release()

    def start_drain(self, signal: Signal) -> None:
        log.info("%s is back on an OTLP level: starting the drain", signal)
        thread = threading.Thread(target=self.drain, name="drain-now", daemon=True)
        with self._started_lock:
            self._started = [t for t in self._started if t.is_alive()] + [thread]
            thread.start()

    def join(self, timeout: float = DRAIN_BUDGET_SECONDS) -> None:
        """Wait for drains the probe started, so none outlives the AWS emulator."""
        with self._started_lock:
            started = list(self._started)
        for thread in started:
            thread.join(timeout)
