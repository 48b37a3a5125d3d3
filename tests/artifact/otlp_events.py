"""What the sample events and the handlers' replies carry, decoded for the assertions."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def body_of(message: dict[str, Any]) -> bytes:
    """The body of an API Gateway event or of a handler's reply."""
    body = message.get("body") or ""
    return base64.b64decode(body) if message.get("isBase64Encoded") else body.encode()


def trace_ids(event: dict[str, Any]) -> set[str]:
    """The hex trace ids of the spans in a protobuf traces event."""
    request = ExportTraceServiceRequest.FromString(body_of(event))
    return {
        span.trace_id.hex()
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }


def span_count(event: dict[str, Any]) -> int:
    request = ExportTraceServiceRequest.FromString(body_of(event))
    return sum(len(scope.spans) for r in request.resource_spans for scope in r.scope_spans)


def log_record_count(event: dict[str, Any]) -> int:
    """The log records in an OTLP/JSON logs event."""
    request = json.loads(body_of(event))
    return sum(
        len(scope.get("logRecords", []))
        for resource in request.get("resourceLogs", [])
        for scope in resource.get("scopeLogs", [])
    )


def status_page(reply: dict[str, Any]) -> dict[str, Any]:
    """GET /status's JSON, from the ingest handler's reply."""
    assert reply["statusCode"] == 200, reply
    page: dict[str, Any] = json.loads(body_of(reply))
    return page


def text_of_object(data: bytes) -> str:
    """A backup object's text (gunzipped if it was stored compressed)."""
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
