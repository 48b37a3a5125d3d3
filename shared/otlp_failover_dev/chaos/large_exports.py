"""A collector's large exports: gzip-compressed traces requests of several MiB, sent one
after another by a few sender threads beside the SDK clients, each answer written down.

A collector batches what many applications send, so its exports are megabytes where an
SDK's are kilobytes. Each request is built once per sender (spans with realistic
attributes until it is ``size`` bytes of protobuf) and renamed for every export: the
names keep their width, so every export has the same size and items of its own.
"""

from __future__ import annotations

import gzip
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.settings.environment import DEFAULT_MAX_BODY_BYTES
from otlp_failover.signals import Signal
from otlp_failover_dev.items import spans
from otlp_failover_dev.ledger import Ledger

GZIP_LEVEL = 6  # zlib's default, which exporters use when no level is configured
WORDS = ("checkout", "cart", "payment", "db.query", "http.get", "cache", "render", "auth")
SPANS_PER_RESOURCE = 2000
SPANS_PER_TRACE = 20  # a batch holds whole traces: spans share their trace id
ATTRIBUTES = ("http.route", "db.statement", "user.tier")
POST_TIMEOUT = 60.0  # above API Gateway's 30 s: the gateway answers first, whatever it says
STOP_TIMEOUT = 120.0  # a sender finishes the export it is sending before it stops


@dataclass(frozen=True)
class LargeAnswer:
    number: int  # the export's number; its items are named ``<prefix>-<number>-...``
    status: int  # 0 when no HTTP answer came (a connection error)
    started: float  # time.monotonic() before the POST
    ended: float
    items: int
    body_bytes: int  # gzip-compressed, as sent


def build_request(size: int, prefix: str, seed: int = 0) -> ExportTraceServiceRequest:
    """Spans with realistic attributes (random ids, a few words each) until the request is
    ``size`` bytes of protobuf, named as export 0 of ``prefix``."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrecy
    request = ExportTraceServiceRequest()
    count = 0
    trace_id = b""
    while request.ByteSize() < size:
        resource = request.resource_spans.add()
        resource.resource.attributes.add(key="service.name").value.string_value = rng.choice(WORDS)
        batch = resource.scope_spans.add(scope={"name": "chaos.large"}).spans
        for number in range(SPANS_PER_RESOURCE):
            if number % SPANS_PER_TRACE == 0:
                trace_id = rng.randbytes(16)
            span = batch.add(trace_id=trace_id, span_id=rng.randbytes(8))
            span.name = _name(prefix, 0, count)
            span.start_time_unix_nano = 1_700_000_000_000_000_000 + count * 1_000_000
            span.end_time_unix_nano = span.start_time_unix_nano + rng.choice((1, 5, 20)) * 10**6
            for key in ATTRIBUTES:
                attribute = span.attributes.add(key=key)
                attribute.value.string_value = " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
            count += 1
    return request


def export_prefix(prefix: str, number: int) -> str:
    """What every item name of export ``number`` starts with."""
    return f"{prefix}-{number:04d}-"


def _name(prefix: str, number: int, index: int) -> str:
    return f"{export_prefix(prefix, number)}{index:06d}"


class LargeExports:
    """``senders`` threads, each posting ``size``-byte traces exports back to back (with
    ``pause`` between them) until ``stop()``. Items are counted in ``ledgers`` as the SDK
    clients' are: acknowledged on a 200, refused otherwise."""

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        size: int,
        prefix: str,
        senders: int = 1,
        pause: float = 0.2,
        seed: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.endpoint = f"{endpoint.rstrip('/')}/v1/traces"
        self.prefix = prefix
        self.size = size
        self.ledgers: dict[Signal, Ledger] = {signal: Ledger() for signal in Signal}
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
        }
        self._pause = pause
        self._template = build_request(size, prefix, seed)
        # Renamed exports keep the width of the names, so the first one's size holds for all.
        self.body_bytes = len(_gzip(self._template))
        _check_body(self.body_bytes, size, max_body_bytes)
        self._senders = senders
        self._lock = threading.Lock()
        self._numbers = 0
        self._answers: list[LargeAnswer] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Self:
        for number in range(self._senders):
            request = ExportTraceServiceRequest()
            request.CopyFrom(self._template)  # each sender renames a request of its own
            thread = threading.Thread(
                target=self._send, args=(request,), name=f"large-export-{number}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        """No new export; the ones in flight get their answers."""
        self._stop.set()
        for thread in self._threads:
            thread.join(STOP_TIMEOUT)

    def answers(self) -> list[LargeAnswer]:
        with self._lock:
            return list(self._answers)

    def _send(self, request: ExportTraceServiceRequest) -> None:
        named, ledger = list(spans(request)), self.ledgers[Signal.TRACES]
        with requests.Session() as session:
            while not self._stop.is_set():
                number = self._next_number()
                names = [_name(self.prefix, number, index) for index in range(len(named))]
                for span, name in zip(named, names, strict=True):
                    span.name = name
                body = _gzip(request)
                with ledger.lock:
                    ledger.sent += len(names)
                started = time.monotonic()
                status = _post(session, self.endpoint, body, self._headers)
                answer = LargeAnswer(
                    number, status, started, time.monotonic(), len(names), len(body)
                )
                ledger.record(names, status == 200)
                with self._lock:
                    self._answers.append(answer)
                self._stop.wait(self._pause)

    def _next_number(self) -> int:
        with self._lock:
            self._numbers += 1
            return self._numbers


def _gzip(request: ExportTraceServiceRequest) -> bytes:
    return gzip.compress(request.SerializeToString(), compresslevel=GZIP_LEVEL)


def _post(session: requests.Session, url: str, body: bytes, headers: Mapping[str, str]) -> int:
    try:
        return session.post(url, data=body, headers=dict(headers), timeout=POST_TIMEOUT).status_code
    except requests.RequestException:
        return 0  # no answer: not acknowledged, as an SDK counts a failed export


def _check_body(body_bytes: int, size: int, limit: int) -> None:
    """API Gateway hands Lambda at most 6 MB of event (the body base64 inside): a larger
    body would be refused before the gateway saw it, which is not what this measures."""
    if body_bytes > limit:
        raise ValueError(
            f"a {size} B export is {body_bytes} B gzip-compressed, over the {limit} B "
            "a request may carry: choose a smaller size"
        )
