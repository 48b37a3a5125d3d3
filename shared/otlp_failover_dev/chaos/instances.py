"""Ingest Lambda instances behind the local HTTP API, as Lambda scales them out.

``functions/ingest/app.py`` holds one gateway per instance; the local stack loads it once,
so every concurrent request would share one state cache. Lambda instead runs one
invocation per instance and starts more under load, each with its own clients, cache and
metrics, and they race on the one DynamoDB item. Here an invocation takes an idle
instance or cold-starts another (up to ``limit``), and every answer is kept for the checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from otlp_failover.gateway.ingest import IngestGateway
from otlp_failover.metrics import FAILOVERS
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal
from otlp_failover.telemetry import Telemetry

DEFAULT_LIMIT = 64  # concurrent instances, like a function's reserved concurrency


@dataclass(frozen=True)
class Answer:
    path: str
    status: int
    retry_after: str | None
    started: float  # time.monotonic() when the invocation began
    ended: float

    @property
    def export(self) -> bool:
        return Signal.from_path(self.path) is not None


class IngestInstances:
    def __init__(
        self, limit: int = DEFAULT_LIMIT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._instances: list[IngestGateway] = []
        self._telemetry: list[Telemetry] = []  # each instance's metrics, for the totals
        self._idle: list[IngestGateway] = []
        self._starting = 0
        self._ready = threading.Condition()
        self._answers: list[Answer] = []
        self._session: boto3.session.Session | None = None
        self._session_lock = threading.Lock()  # a boto3 session builds one client at a time

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = self._clock()  # a cold start is part of what the client waits for
        gateway = self._take()
        try:
            reply = gateway.handle(event, context)
        finally:
            with self._ready:
                self._idle.append(gateway)
                self._ready.notify()
        answer = Answer(
            str(event.get("rawPath", "")),
            int(reply["statusCode"]),
            (reply.get("headers") or {}).get("retry-after"),
            started,
            self._clock(),
        )
        with self._ready:
            self._answers.append(answer)
        return reply

    @property
    def count(self) -> int:
        """Instances started so far (cold starts)."""
        with self._ready:
            return len(self._instances)

    def answers(
        self, since: float = 0.0, until: float = float("inf"), *, whole: bool = False
    ) -> list[Answer]:
        """Export answers of invocations that ran while [since, until] lasted, at least in
        part; ``whole``: only those that ran wholly inside it (they met only the fault)."""
        with self._ready:
            answers = list(self._answers)
        if whole:
            return [a for a in answers if a.export and since <= a.started and a.ended <= until]
        return [a for a in answers if a.export and a.started <= until and a.ended >= since]

    def failovers(self, signal: Signal) -> int:
        """Level moves this signal's instances wrote: successful conditional writes only."""
        key = (FAILOVERS, (("Signal", signal.value),))
        with self._ready:
            telemetry = list(self._telemetry)
        return int(sum(t.totals().get(key, 0) for t in telemetry))

    def warm(self, count: int) -> None:
        """Start ``count`` idle instances now, like provisioned concurrency: the first burst
        of exports then measures the gateway, not this machine's cold starts."""
        while self.count < count:
            gateway = self._cold_start()
            with self._ready:
                self._idle.append(gateway)
                self._ready.notify()

    def _take(self) -> IngestGateway:
        with self._ready:
            while not self._idle and len(self._instances) + self._starting >= self.limit:
                self._ready.wait()
            if self._idle:
                return self._idle.pop()
            self._starting += 1
        try:
            return self._cold_start()
        finally:
            with self._ready:
                self._starting -= 1
                self._ready.notify()  # a failed cold start frees its slot for a waiter

    def _cold_start(self) -> IngestGateway:
        """A new instance with clients of its own, as app.py builds them at import. The
        boto3 session (botocore's loaded service models) is shared: building one per
        instance costs this machine a second under load, and the clients are still apart."""
        with self._session_lock:
            if self._session is None:
                self._session = boto3.session.Session()
            runtime = Runtime.build(session=self._session)
            gateway = runtime.ingest_gateway()
        with self._ready:
            self._instances.append(gateway)
            self._telemetry.append(runtime.telemetry)
        return gateway
