"""A collector-sized export through an outage: a 16 MiB (decompressed) traces export, sent
gzip-compressed as a collector sends it, is acknowledged while the primary is down, and
every span reaches the primary after the recovery, replayed gzip-compressed.

This is the size that used to be replayed uncompressed (and so refused by a backend with a
body cap) and, on the ingest side, to run the function out of memory while failing over.
"""

from __future__ import annotations

import gzip
import random

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.signals import Signal
from otlp_failover_dev.items import deliveries
from tests.e2e.conftest import StackFactory, auth, backlog, levels, wait_until

SIZE = 16 * 1024 * 1024
WORDS = ["checkout", "cart", "payment", "db.query", "http.get", "cache", "render", "auth"]


def large_export(size: int, seed: int = 7) -> tuple[ExportTraceServiceRequest, set[str]]:
    """Spans with realistic attributes until the request is ``size`` bytes of protobuf."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    names: set[str] = set()
    while request.ByteSize() < size:
        resource = request.resource_spans.add()
        resource.resource.attributes.add(key="service.name").value.string_value = rng.choice(WORDS)
        spans = resource.scope_spans.add(scope={"name": "bench"}).spans
        for number in range(2000):
            if number % 20 == 0:  # a batch holds whole traces: spans share their trace id
                trace_id = rng.randbytes(16)
            span = spans.add(trace_id=trace_id, span_id=rng.randbytes(8))
            span.name = f"large-{len(names):07d}"
            names.add(span.name)
            span.start_time_unix_nano = 1_700_000_000_000_000_000 + len(names) * 1_000_000
            span.end_time_unix_nano = span.start_time_unix_nano + rng.choice((1, 5, 20)) * 10**6
            for key in ("http.route", "db.statement", "user.tier"):
                attribute = span.attributes.add(key=key)
                attribute.value.string_value = " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
    return request, names


def test_a_16_mib_export_survives_an_outage_and_is_replayed_gzip_compressed(
    start_stack: StackFactory,
) -> None:
    stack = start_stack(max_retries=1, retry_interval=1.0, drain_interval=1.0)
    primary = stack.primary
    assert primary is not None
    request, names = large_export(SIZE)
    raw = request.SerializeToString()
    assert len(raw) >= SIZE
    body = gzip.compress(raw, compresslevel=6)

    primary.set_mode("refuse")
    reply = requests.post(
        f"{stack.api_url}/v1/traces",
        data=body,
        headers={
            **auth(stack),
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
        },
        timeout=60,
    )
    assert reply.status_code == 200, reply.text[:300]
    assert backlog(stack)["traces"] >= 1
    assert levels(stack)["traces"] == 1

    primary.set_mode("healthy")
    wait_until(
        lambda: backlog(stack)["traces"] == 0 and levels(stack)["traces"] == 0,
        timeout=60,
        what="the recovery and the drain of the large export",
    )
    delivered = deliveries(primary.exports, Signal.TRACES)
    assert set(delivered) >= names  # every span of the export reached the primary
    replays = [e for e in primary.exports if e.content_encoding]
    assert replays and {e.content_encoding for e in replays} == {"gzip"}
