"""An OTLP/HTTP request body: checked, decompressed under a hard cap, parsed once.

The parsed message validates the request and counts its items; the exact bytes received
(``raw``, still compressed if they came compressed) are what the healthy path forwards.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from google.protobuf.message import DecodeError  # type: ignore[import-untyped, unused-ignore]

from otlp_failover.codec._ids import IdLengthError, check_id_lengths
from otlp_failover.codec.compression import decompress
from otlp_failover.codec.json_decode import decode_json
from otlp_failover.codec.json_encode import encode_json
from otlp_failover.codec.media import MediaType, parse_content_encoding, parse_content_type
from otlp_failover.errors import BadRequestError, PayloadTooLargeError
from otlp_failover.signals import Signal

# What a re-encoded body is compressed with: level 1 costs a fifth of level 6's CPU and
# still shrinks OTLP protobuf several times (the drain compresses its replays so too).
_GZIP_LEVEL = 1


@dataclass(frozen=True)
class ExportBody:
    """One decoded export request and the bytes it came as."""

    signal: Signal
    media_type: MediaType
    encoding: str | None
    # Kept out of repr: a body can be megabytes, and reprs end up in logs.
    message: Any = field(repr=False)
    raw: bytes = field(repr=False)

    @cached_property
    def item_count(self) -> int:
        """Spans, metric data points (every kind) or log records in the request."""
        return count_items(self.signal, self.message)


def decode_export(
    signal: Signal,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    max_decompressed_bytes: int,
) -> ExportBody:
    """Check the headers (415), size (413) and content (400) of one export request.

    An empty body is an empty request, whatever its encoding. ``max_decompressed_bytes``
    bounds the body as it arrived when not compressed, and its decompressed size when
    compressed (``compression.py``). Ids in protobuf bodies are length-checked by
    ``check_ids``, not here (see there).
    """
    media_type = parse_content_type(content_type)
    encoding = parse_content_encoding(content_encoding)
    if encoding is not None and body:
        payload = decompress(encoding, body, max_decompressed_bytes)
    elif len(body) > max_decompressed_bytes:
        raise PayloadTooLargeError(
            f"request body of {len(body)} bytes is over the limit of {max_decompressed_bytes}"
        )
    else:
        payload = body
    if not payload:
        message = signal.request_class()
    elif media_type is MediaType.JSON:
        message = decode_json(signal, payload)
    else:
        message = _parse_protobuf(signal, payload)
    return ExportBody(signal, media_type, encoding, message, body)


def _parse_protobuf(signal: Signal, payload: bytes) -> Any:
    try:
        return signal.request_class.FromString(payload)
    except DecodeError as exc:
        raise BadRequestError(f"protobuf {signal} request does not parse: {exc}") from exc


def reencoded(body: ExportBody, encoding: Literal["gzip"] | None) -> ExportBody:
    """``body``'s request serialised again in its media type, gzip-compressed or not: what
    a backend that refuses the client's Content-Encoding gets instead of its bytes."""
    if body.media_type is MediaType.JSON:
        payload = encode_json(body.message)
    else:
        payload = body.message.SerializeToString()
    if encoding == "gzip":
        payload = gzip.compress(payload, compresslevel=_GZIP_LEVEL, mtime=0)
    return replace(body, encoding=encoding, raw=payload)


def check_ids(body: ExportBody) -> None:
    """400 unless every trace and span id is empty or 16 / 8 bytes long.

    A JSON body was checked while decoding. A protobuf body is not checked by
    ``decode_export`` (the healthy path forwards it and the primary refuses bad ids
    itself); call this before writing it anywhere else, such as the S3 backup.
    """
    if body.media_type is MediaType.JSON:
        return
    try:
        check_id_lengths(body.message)
    except IdLengthError as exc:
        what = f"protobuf {body.signal} request"
        raise BadRequestError(f"{what}: {exc.where()}: {exc.problem}") from exc


def count_items(signal: Signal, message: Any) -> int:
    """Spans, metric data points or log records: what a partial success counts."""
    if signal is Signal.TRACES:
        return sum(
            len(scope.spans)
            for resource in message.resource_spans
            for scope in resource.scope_spans
        )
    if signal is Signal.LOGS:
        return sum(
            len(scope.log_records)
            for resource in message.resource_logs
            for scope in resource.scope_logs
        )
    points = 0
    for resource in message.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    points += len(getattr(getattr(metric, kind), "data_points", ()))
    return points
