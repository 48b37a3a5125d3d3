"""The gateway's metric names, and the one interface every part counts through.

The core counts through ``Metrics`` and never imports the EMF writer (``telemetry``), so
the failover rules and the router stay free of Powertools and of stdout.
"""

from __future__ import annotations

from typing import Protocol

from otlp_failover.signals import Signal

CURRENT_LEVEL = "CurrentLevel"
FAILOVERS = "Failovers"
RECOVERIES = "Recoveries"
EXPORTS_ACCEPTED = "ExportsAccepted"
EXPORT_FAILURES = "ExportFailures"
EXPORTS_REFUSED = "ExportsRefused"  # 503: every level failed
BACKUP_WRITES = "BackupWrites"
BACKUP_BYTES = "BackupBytes"
DRAINED_REQUESTS = "DrainedRequests"
DEAD_LETTERED = "DeadLetteredRequests"
BACKLOG_OBJECTS = "BacklogObjects"
BACKLOG_OLDEST_AGE = "BacklogOldestAge"

UNITS = {BACKUP_BYTES: "Bytes", BACKLOG_OLDEST_AGE: "Seconds", CURRENT_LEVEL: "None"}
GAUGES = frozenset({CURRENT_LEVEL, BACKLOG_OBJECTS, BACKLOG_OLDEST_AGE})


class Metrics(Protocol):
    def count(
        self, name: str, signal: Signal, value: float = 1, level: int | None = None
    ) -> None: ...

    def gauge(self, name: str, signal: Signal, value: float) -> None: ...

    def flush(self) -> None:
        """Write what was recorded since the last flush."""


class NoMetrics:
    """Counts nothing: for parts built without a metrics sink (tests, one-off tools)."""

    def count(self, name: str, signal: Signal, value: float = 1, level: int | None = None) -> None:
        pass

    def gauge(self, name: str, signal: Signal, value: float) -> None:
        pass

    def flush(self) -> None:
        pass
