"""Builds a backlog in the moto bucket and reads what a backend received, span by span."""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.codec import encode_json
from otlp_failover.signals import Signal
from otlp_failover_dev.items import deliveries
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend

START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def request_named(name: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.name, span.trace_id, span.span_id = name, b"\x01" * 16, b"\x02" * 8
    return request


def seed_backlog(
    aws: AwsEmulator,
    bucket: str,
    objects: int,
    lines_per_object: int = 1,
    bad: Set[str] = frozenset(),
    shard: str = "s00",
    signal_prefix: str = "",
) -> list[str]:
    """``objects`` backup objects of ``lines_per_object`` lines in one shard; returns the
    span names in order. Names listed in ``bad`` are written as lines that do not decode.
    """
    layout, s3, names = BackupLayout("backup"), aws.s3(), []
    for o in range(objects):
        lines = []
        for n in range(lines_per_object):
            name = f"{signal_prefix}o{o:04d}-l{n:03d}"
            names.append(name)
            lines.append(
                b'{"resourceSpans": nope' if name in bad else encode_json(request_named(name))
            )
        moment = START + timedelta(seconds=o)
        key = layout.new_key(Signal.TRACES, moment, f"{signal_prefix}{o:06d}", shard)
        s3.put_object(Bucket=bucket, Key=key, Body=b"\n".join(lines) + b"\n")
    return names


def received_names(backend: OtlpBackend) -> Counter[str]:
    """How many times ``backend`` received each span name."""
    return deliveries(backend.exports, Signal.TRACES)


def bucket_keys(aws: AwsEmulator, bucket: str, prefix: str = "") -> list[str]:
    paginator = aws.s3().get_paginator("list_objects_v2")
    return [
        entry["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for entry in page.get("Contents", [])
    ]
