"""The seam every backend call passes through: ``Exporter.export(body, deadline)``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum

from otlp_failover.codec import ExportBody


class Outcome(Enum):
    ACCEPTED = "accepted"  # durable at this exporter
    REJECTED = "rejected"  # the payload's fault (400/413): back to the client, counts for nothing
    FAILED = "failed"  # the level's fault: try the next level, count a failure


@dataclass(frozen=True)
class ExportResult:
    outcome: Outcome
    exporter: str
    status: int | None = None  # HTTP status from a backend, if any
    body: bytes = b""  # the backend's response body (bounded), for partial success / errors
    content_type: str | None = None
    retry_after: float | None = None  # what the backend asked for, in seconds
    reason: str = ""  # short, secret-free, for logs and /status
    attempts: int = 1
    stored_bytes: int = 0  # bytes written to the backup, when this exporter stores data

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class Exporter(ABC):
    """One destination. ``deadline`` is a ``time.monotonic()`` instant it must not pass."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        """Deliver ``body``; never raises for a backend problem, reports it in the result.

        ``retry=False`` makes one attempt only (the probe asks "are you back?", not "take this").
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most exporters hold nothing
        """Release pooled connections."""
