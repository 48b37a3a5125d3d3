"""Writes the hostile seed inputs in seeds/ (the files are kept in the repo).

Each seed is a body file plus an entry in seeds/manifest.json with its headers, so a new
crash found by ``make fuzz`` can be added here and replayed by every CI run. Only seeds
whose file is missing are written (``python -m tests.fuzz.make_seeds``): the committed
ones stay byte for byte as they are (gzip stamps the time, and a compression library's
next version may choose other bytes). Delete a seed's file to write it again.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.compressors import ENCODINGS, compress, zeros_bomb

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


Seeds = dict[str, tuple[bytes, dict[str, str], bool]]
SNAPPY_STREAM_ID = b"\xff\x06\x00\x00sNaPpY"


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def encoding_seeds() -> Seeds:
    """Per Content-Encoding a collector sends: a valid export, a bomb past the 32 MiB cap,
    a truncated body and a body that is not that coding at all. Snappy streams declare
    their sizes up front (the gateway refuses a bomb from that), so their bombs declare
    and do not send."""
    found: Seeds = {}
    for encoding in ENCODINGS:
        headers = {"content-type": PROTO, "content-encoding": encoding}
        valid = compress(encoding, trace())
        found[f"{encoding}-valid-trace.bin"] = (valid, headers, True)
        found[f"{encoding}-truncated.bin"] = (valid[: len(valid) - 3], headers, True)
        found[f"{encoding}-not-compressed.bin"] = (trace(), headers, True)
        if encoding not in ("gzip", "snappy", "x-snappy-framed"):  # gzip: gzip-bomb-48mib
            found[f"{encoding}-bomb-34mib.bin"] = (zeros_bomb(encoding, 34), headers, True)
    snappy = {"content-type": PROTO, "content-encoding": "snappy"}
    framed = {"content-type": PROTO, "content-encoding": "x-snappy-framed"}
    chunk_of_64_kib = b"\x00" + (4 + 3).to_bytes(3, "little") + b"\x00" * 4 + varint(65536)
    found["snappy-declares-1gib.bin"] = (varint(1 << 30) + b"\x00" * 16, snappy, True)
    found["x-snappy-framed-declares-40mib.bin"] = (
        SNAPPY_STREAM_ID + chunk_of_64_kib * 640,
        framed,
        True,
    )
    found["snappy-legacy-framed-trace.bin"] = (compress("x-snappy-framed", trace()), snappy, True)
    block = compress("snappy", bytes(70_000))  # one chunk may hold 64 KiB at most
    oversized = b"\x00" + (4 + len(block)).to_bytes(3, "little") + b"\x00" * 4 + block
    found["x-snappy-framed-chunk-over-64kib.bin"] = (SNAPPY_STREAM_ID + oversized, framed, True)
    return found


def seeds() -> Seeds:
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
    for name, (body, headers, flagged) in {**seeds(), **encoding_seeds()}.items():
        if not (HERE / name).exists():
            (HERE / name).write_bytes(body)
        manifest[name] = {"headers": headers, "isBase64Encoded": flagged}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
