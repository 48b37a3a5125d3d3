"""An export at the decompressed cap fails over to the moto bucket in a multipart upload,
as complete export requests of at most LINE_BYTES each, one per line, which together are
the export, and drains back into the primary."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otlp_failover.aws.s3 import PART_BYTES
from otlp_failover.backup.writer import LINE_BYTES
from otlp_failover.codec import decode_json, encode_json
from otlp_failover.settings.environment import DEFAULT_MAX_DECOMPRESSED_BYTES
from otlp_failover.signals import Signal
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.backlog_helpers import bucket_keys, received_names
from tests.functional.gateway import Gateway

RESOURCES, SCOPES = 3, 2


def template_span() -> Span:
    span = Span(trace_id=bytes(range(16)), span_id=bytes(8), parent_span_id=b"\x01" * 8)
    span.start_time_unix_nano = 1_764_240_000_000_000_000
    span.end_time_unix_nano = span.start_time_unix_nano + 500_000_000
    span.kind = Span.SPAN_KIND_SERVER
    span.status.code = span.status.STATUS_CODE_OK
    for number in range(10):
        span.attributes.add(key=f"app.attr_{number}").value.string_value = f"value {number}" * 3
    span.events.add(name="log", time_unix_nano=1_764_240_000_000_000_001)
    return span


def export_under_the_cap(cap: int) -> tuple[ExportTraceServiceRequest, list[str]]:
    """Spans named one by one, as many as fit a little under ``cap`` bytes of protobuf."""
    template = template_span()
    per_span = template.ByteSize() + 16  # the name and the field's tag and length
    count = (cap - 64 * 1024) // per_span
    request, names = ExportTraceServiceRequest(), []
    scopes = []
    for resource_number in range(RESOURCES):
        resource = request.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
        resource.resource.attributes.add(key="service.name").value.string_value = "big"
        for scope_number in range(SCOPES):
            scopes.append(resource.scope_spans.add())
            scopes[-1].scope.name = f"lib{resource_number}.{scope_number}"
    for number in range(count):
        span = scopes[number % len(scopes)].spans.add()
        span.CopyFrom(template)
        span.name = f"big-{number:07d}"
        names.append(span.name)
    assert request.ByteSize() <= cap
    return request, names


def test_an_export_at_the_cap_fails_over_whole_and_drains_back(
    chain_env: dict[str, str], aws: AwsEmulator, backup_bucket: str, backend: OtlpBackend
) -> None:
    request, names = export_under_the_cap(DEFAULT_MAX_DECOMPRESSED_BYTES)
    raw = request.SerializeToString()
    gateway = Gateway.build(chain_env)
    backend.set_mode("status", status=503)

    reply = gateway.send("/v1/traces", raw, gzip=True)  # gzip on the wire, as SDKs send it

    assert reply.status == 200
    (key,) = bucket_keys(aws, backup_bucket, "backup/")
    s3 = aws.s3()
    stored = s3.get_object(Bucket=backup_bucket, Key=key)
    body = stored["Body"].read()
    assert len(body) > 2 * PART_BYTES and "-" in stored["ETag"]  # S3's multipart ETag: md5-parts
    lines = body.removesuffix(b"\n").split(b"\n")
    pieces = [decode_json(Signal.TRACES, line) for line in lines]
    assert len(pieces) >= request.ByteSize() // LINE_BYTES
    assert all(piece.ByteSize() <= LINE_BYTES for piece in pieces)
    joined = ExportTraceServiceRequest()
    for piece in pieces:
        joined.MergeFrom(piece)
    # Together the lines are the export: every span, in order, under its resource and scope.
    spans = [
        (r.resource, s.scope, x)
        for r in request.resource_spans
        for s in r.scope_spans
        for x in s.spans
    ]
    assert [
        (r.resource, s.scope, x)
        for r in joined.resource_spans
        for s in r.scope_spans
        for x in s.spans
    ] == spans
    assert all(line == encode_json(piece) for line, piece in zip(lines, pieces, strict=True))
    assert stored["Metadata"] == {"items": str(len(names))}
    assert s3.list_multipart_uploads(Bucket=backup_bucket).get("Uploads", []) == []

    backend.set_mode("healthy")
    gateway.runtime.drain_job().run(120)
    assert received_names(backend) == {name: 1 for name in names}
    assert bucket_keys(aws, backup_bucket, "backup/") == []
