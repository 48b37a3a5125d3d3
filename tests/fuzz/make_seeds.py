"""Writes the hostile seed inputs in seeds/ (run once; the files are kept in the repo).

Each seed is a body file plus an entry in seeds/manifest.json with its headers, so a new
crash found by ``make fuzz`` can be added here and replayed by every CI run.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

HERE = Path(__file__).parent / "seeds"
PROTO = "application/x-protobuf"
JSON = "application/json"


def trace() -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="seed")
    span.trace_id, span.span_id = b"\x01" * 16, b"\x02" * 8
    return bytes(request.SerializeToString())


def attribute_flood() -> bytes:
    request = ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    for i in range(20_000):
        record.attributes.add(key=f"k{i}").value.string_value = "v"
    return bytes(request.SerializeToString())


def seeds() -> dict[str, tuple[bytes, dict[str, str], bool]]:
    """name -> (body, headers, isBase64Encoded as sent to the handler)."""
    bomb = gzip.compress(b"\0" * (48 * 1024 * 1024), compresslevel=9)
    deep_json = (
        b'{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":'
        + (b'{"arrayValue":{"values":[' * 200)
        + b"]}}" * 200
        + b"}]}}]}"
    )
    return {
        "valid-trace.bin": (trace(), {"content-type": PROTO}, True),
        "gzip-bomb-48mib.gz": (bomb, {"content-type": PROTO, "content-encoding": "gzip"}, True),
        "nested-gzip.gz": (
            gzip.compress(gzip.compress(trace())),
            {"content-type": PROTO, "content-encoding": "gzip"},
            True,
        ),
        "truncated-gzip.gz": (
            gzip.compress(trace())[:-9],
            {"content-type": PROTO, "content-encoding": "gzip"},
            True,
        ),
        "deep-json.json": (deep_json, {"content-type": JSON}, False),
        "huge-number.json": (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":1'
            + b"9" * 5000
            + b"}]}]}]}",
            {"content-type": JSON},
            False,
        ),
        "invalid-utf8.json": (b'{"resourceLogs":[{"x":"\xff\xfe"}]}', {"content-type": JSON}, True),
        "attribute-flood.bin": (attribute_flood(), {"content-type": PROTO}, True),
        "lying-base64.txt": (b"this is not base64 at all!", {"content-type": PROTO}, True),
        "base64-unflagged.txt": (base64.b64encode(trace()), {"content-type": PROTO}, False),
        "json-as-protobuf.json": (b'{"resourceSpans": []}', {"content-type": PROTO}, False),
        "protobuf-as-json.bin": (trace(), {"content-type": JSON}, True),
        "odd-charset.json": (b"{}", {"content-type": "application/json; charset=latin-1"}, False),
        "double-encoding.gz": (
            gzip.compress(trace()),
            {"content-type": PROTO, "content-encoding": "gzip, br"},
            True,
        ),
    }


def main() -> None:
    HERE.mkdir(exist_ok=True)
    manifest = {}
    for name, (body, headers, flagged) in seeds().items():
        (HERE / name).write_bytes(body)
        manifest[name] = {"headers": headers, "isBase64Encoded": flagged}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
