"""What an exporter answers, and what a routed export came to: the contract the edge reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from otlp_failover.failover.state import SignalState


class Outcome(Enum):
    ACCEPTED = "accepted"  # durable at this exporter
    REJECTED = "rejected"  # the payload's fault (400/413): back to the client, counts for nothing
    FAILED = "failed"  # the level's fault: try the next level, count a failure


@dataclass(frozen=True)
class ExportResult:
    outcome: Outcome
    exporter: str
    status: int | None = None  # HTTP status from a backend; None where no HTTP was spoken
    body: bytes = b""  # the backend's response body (bounded), for partial success / errors
    content_type: str | None = None
    retry_after: float | None = None  # what the backend asked for, in seconds
    reason: str = ""  # short, secret-free, for logs and /status
    attempts: int = 1
    stored_bytes: int = 0  # bytes written to the backup, when this exporter stores data
    too_large: bool = False  # a rejection because of the payload's size (413)

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class Verdict(Enum):
    ACCEPTED = "accepted"  # some level took it: 200
    REJECTED = "rejected"  # the payload's fault, final: 400 or 413 to the client
    EXHAUSTED = "exhausted"  # every level failed: 503 with Retry-After


@dataclass(frozen=True)
class RouteResult:
    verdict: Verdict
    result: ExportResult  # the answer that decided: the acceptance, the rejection, the last failure
    state: SignalState  # the signal's state after this export
    level: int | None = None  # the level that accepted
    failures: tuple[ExportResult, ...] = field(default=())
