"""decode_export: headers (415), size (413) and content (400) of a request body."""

from __future__ import annotations

import gzip
import os
import tracemalloc
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otlp_failover.codec import MediaType, check_ids, decode_export, encode_json, gunzip
from otlp_failover.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from otlp_failover.signals import Signal
from tests.compressors import COMPRESSORS, ENCODINGS

LIMIT = 4 * 1024 * 1024
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def _trace_request(spans: int = 2, **span: Any) -> Any:
    defaults = {"trace_id": b"\x01" * 16, "span_id": b"\x02" * 8, "name": "op"}
    return Signal.TRACES.request_class(
        resource_spans=[{"scope_spans": [{"spans": [{**defaults, **span}] * spans}]}]
    )


def _decode(
    body: bytes,
    content_type: str | None = PROTOBUF,
    encoding: str | None = None,
    signal: Signal = Signal.TRACES,
    limit: int = LIMIT,
) -> Any:
    return decode_export(signal, body, content_type, encoding, max_decompressed_bytes=limit)


def _status(error: type[Exception], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(error) as caught:
        _decode(*args, **kwargs)
    return str(caught.value)


# Content type and encoding


def test_protobuf_body_decodes_and_keeps_its_media_type_encoding_and_raw_bytes() -> None:
    raw = _trace_request().SerializeToString()
    body = _decode(raw)
    assert body.signal is Signal.TRACES
    assert body.media_type is MediaType.PROTOBUF
    assert body.encoding is None
    assert body.message == _trace_request()
    assert body.raw is raw
    assert body.item_count == 2


def test_gzip_body_keeps_the_gzipped_bytes_as_raw() -> None:
    raw = gzip.compress(_trace_request().SerializeToString())
    body = _decode(raw, encoding="gzip")
    assert body.encoding == "gzip"
    assert body.raw is raw
    assert body.message == _trace_request()


def test_json_body_with_charset_parameter_decodes() -> None:
    raw = encode_json(_trace_request())
    body = _decode(raw, "application/json; charset=UTF-8")
    assert body.media_type is MediaType.JSON
    assert body.message == _trace_request()


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/protobuf"])
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        _decode(b"", content_type)
    assert caught.value.status == 415


@pytest.mark.parametrize("encoding", ["br", "compress", "gzip, br", "zstd, gzip"])
def test_other_content_encodings_are_415(encoding: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        _decode(gzip.compress(b""), encoding=encoding)
    assert caught.value.status == 415
    assert encoding in caught.value.message


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_every_encoding_decodes_and_keeps_the_clients_bytes_and_encoding(
    encoding: str, content_type: str
) -> None:
    request = _trace_request(3)
    payload = encode_json(request) if content_type == JSON else request.SerializeToString()
    raw = COMPRESSORS[encoding](payload)
    body = _decode(raw, content_type, encoding.upper())
    assert (body.encoding, body.raw, body.message) == (encoding, raw, request)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("encoding", [None, *ENCODINGS])
def test_empty_body_is_a_valid_empty_request(content_type: str, encoding: str | None) -> None:
    for signal in Signal:
        body = _decode(b"", content_type, encoding, signal)
        assert body.message == signal.request_class()
        assert body.item_count == 0


# gzip


def test_multi_member_gzip_is_one_body() -> None:
    first, second = _trace_request(1, name="a"), _trace_request(1, name="b")
    # Concatenated protobuf messages merge: the result holds both resource spans.
    raw = gzip.compress(first.SerializeToString()) + gzip.compress(second.SerializeToString())
    body = _decode(raw, encoding="gzip")
    assert [rs.scope_spans[0].spans[0].name for rs in body.message.resource_spans] == ["a", "b"]


def test_gzip_members_with_empty_content_are_fine() -> None:
    assert gunzip(gzip.compress(b"") + gzip.compress(b"x") + gzip.compress(b""), 10) == b"x"


def test_truncated_gzip_is_400() -> None:
    raw = gzip.compress(os.urandom(2000))
    for cut in (len(raw) - 4, len(raw) // 2, 12):
        message = _status(BadRequestError, raw[:cut], encoding="gzip")
        assert "gzip body is truncated" in message


def test_corrupt_gzip_is_400() -> None:
    raw = bytearray(gzip.compress(_trace_request().SerializeToString()))
    raw[-6] ^= 0xFF  # the CRC
    assert "gzip body is corrupt" in _status(BadRequestError, bytes(raw), encoding="gzip")
    assert "gzip body is corrupt" in _status(BadRequestError, b"not gzip at all", encoding="gzip")


def test_trailing_garbage_after_gzip_is_400() -> None:
    raw = gzip.compress(b"") + b"garbage!"
    assert "gzip body is corrupt" in _status(BadRequestError, raw, encoding="gzip")


def _zeros_bomb(total_mib: int) -> bytes:
    """A gzip stream of ``total_mib`` MiB of zeros, built from one repeated compressed block.

    After a full flush the compressor starts afresh, so each further MiB of zeros
    compresses to the same bytes: the stream costs one MiB of compression, not a GiB.
    The trailer (CRC, size) is left off; the decoder must stop long before reaching it.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    return head + block * (total_mib - 1)


def test_gzip_bomb_is_413_with_memory_bounded_by_the_limit() -> None:
    bomb = _zeros_bomb(1024)  # 1 GiB of zeros
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLargeError) as caught:
            _decode(bomb, encoding="gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status == 413
    assert peak < LIMIT + 512 * 1024, f"peak {peak} bytes for a {LIMIT}-byte limit"


def test_decompressed_size_exactly_at_the_limit_passes_and_one_byte_over_is_413() -> None:
    payload = b"\x00" * 1000
    assert gunzip(gzip.compress(payload), 1000) == payload
    with pytest.raises(PayloadTooLargeError):
        gunzip(gzip.compress(payload + b"\x00"), 1000)
    with pytest.raises(PayloadTooLargeError):
        gunzip(gzip.compress(payload) + gzip.compress(b"\x00"), 1000)


def test_uncompressed_body_over_the_limit_is_413() -> None:
    raw = _trace_request(50).SerializeToString()
    assert _decode(raw, limit=len(raw)).item_count == 50
    assert "over the limit" in _status(PayloadTooLargeError, raw, limit=len(raw) - 1)


@settings(max_examples=100, deadline=None)
@given(prefix=st.binary(max_size=32), cut=st.integers(0, 300))
def test_any_gzip_like_bytes_decompress_or_are_400_or_413(prefix: bytes, cut: int) -> None:
    raw = gzip.compress(prefix * 20)[:cut] + prefix
    try:
        result = gunzip(raw, 200)
    except (BadRequestError, PayloadTooLargeError) as exc:
        assert exc.status in (400, 413)
    else:
        assert len(result) <= 200


# Protobuf content


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xff\xff", b"\x0a\x05abc", b"\x00", b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"],
)
def test_bytes_that_are_not_a_protobuf_request_are_400(raw: bytes) -> None:
    message = _status(BadRequestError, raw)
    assert "protobuf traces request does not parse" in message


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(min_size=1, max_size=64))
def test_random_bytes_as_protobuf_parse_or_are_400(raw: bytes) -> None:
    for signal in Signal:
        try:
            _decode(raw, signal=signal)
        except BadRequestError as exc:
            assert exc.status == 400


def test_protobuf_string_that_is_not_utf8_is_400() -> None:
    raw = Signal.TRACES.request_class(resource_spans=[{"schema_url": "x"}]).SerializeToString()
    assert _status(BadRequestError, raw.replace(b"x", b"\xff"))


@pytest.mark.parametrize(
    ("span", "where"),
    [
        ({"trace_id": b"\x01" * 15}, "spans[0].traceId: trace_id must be 16 bytes, got 15"),
        ({"span_id": b"\x01" * 9}, "spans[0].spanId: span_id must be 8 bytes, got 9"),
        ({"parent_span_id": b"\x01"}, "spans[0].parentSpanId"),
        ({"links": [{}, {"trace_id": b"\x01" * 4}]}, "spans[0].links[1].traceId"),
    ],
)
def test_protobuf_ids_of_the_wrong_length_pass_decoding_and_fail_check_ids_with_400(
    span: dict[str, Any], where: str
) -> None:
    body = _decode(_trace_request(1, **span).SerializeToString())
    with pytest.raises(BadRequestError) as caught:
        check_ids(body)
    assert f"resourceSpans[0].scopeSpans[0].{where}" in caught.value.message


def test_check_ids_passes_ids_of_the_right_length_and_empty_ids() -> None:
    check_ids(_decode(_trace_request(3).SerializeToString()))
    check_ids(_decode(_trace_request(1, trace_id=b"", span_id=b"").SerializeToString()))
    check_ids(_decode(encode_json(_trace_request(2)), JSON))


def test_check_ids_finds_wrong_length_ids_in_log_records_and_every_exemplar_kind() -> None:
    logs = Signal.LOGS.request_class(
        resource_logs=[{"scope_logs": [{"log_records": [{}, {"span_id": b"\x01" * 7}]}]}]
    )
    with pytest.raises(BadRequestError, match=r"logRecords\[1\]\.spanId"):
        check_ids(_decode(logs.SerializeToString(), signal=Signal.LOGS))
    bad = {"exemplars": [{"trace_id": b"\x01" * 16}, {"trace_id": b"\x01" * 3}]}
    for kind in ("gauge", "sum", "histogram", "exponential_histogram"):
        metric = {kind: {"data_points": [{}, bad]}}
        metrics = Signal.METRICS.request_class(
            resource_metrics=[{"scope_metrics": [{"metrics": [{"name": "ok"}, metric]}]}]
        )
        body = _decode(metrics.SerializeToString(), signal=Signal.METRICS)
        with pytest.raises(BadRequestError) as caught:
            check_ids(body)
        json_kind = "exponentialHistogram" if kind == "exponential_histogram" else kind
        assert f"metrics[1].{json_kind}.dataPoints[1].exemplars[1].traceId" in str(caught.value)


def _deep_log_request(levels: int) -> Any:
    value: dict[str, Any] = {"string_value": "leaf"}
    for _ in range(levels):
        value = {"array_value": {"values": [value]}}
    return Signal.LOGS.request_class(
        resource_logs=[{"scope_logs": [{"log_records": [{"body": value}]}]}]
    )


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_protobuf_and_json_agree_on_the_deepest_accepted_nesting(content_type: str) -> None:
    def encode(message: Any) -> bytes:
        return message.SerializeToString() if content_type == PROTOBUF else encode_json(message)

    accepted = _deep_log_request(48)
    assert _decode(encode(accepted), content_type, signal=Signal.LOGS).message == accepted
    with pytest.raises(BadRequestError):
        _decode(encode(_deep_log_request(49)), content_type, signal=Signal.LOGS)


# JSON content


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "invalid JSON"),
        (b'{"resourceSpans": "\xff"}', "not valid UTF-8"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd"}]}]}]}', "traceId"),
    ],
)
def test_json_bodies_that_do_not_decode_are_400(raw: bytes, fragment: str) -> None:
    assert fragment in _status(BadRequestError, raw, JSON)


def test_gzipped_json_is_decoded_after_gunzip() -> None:
    raw = gzip.compress(encode_json(_trace_request(3)))
    body = _decode(raw, JSON, "gzip")
    assert body.item_count == 3
    assert body.raw is raw


def test_item_count_counts_data_points_of_every_metric_kind() -> None:
    points: dict[str, list[dict[str, object]]] = {"data_points": [{}, {}]}
    metrics = [
        {"gauge": points},
        {"sum": points},
        {"histogram": points},
        {"exponential_histogram": points},
        {"summary": points},
        {"name": "no data"},
    ]
    request = Signal.METRICS.request_class(
        resource_metrics=[{"scope_metrics": [{"metrics": metrics}, {"metrics": metrics[:1]}]}]
    )
    body = _decode(request.SerializeToString(), signal=Signal.METRICS)
    assert body.item_count == 12


def test_item_count_counts_log_records_across_resources_and_scopes() -> None:
    scope: dict[str, list[dict[str, object]]] = {"log_records": [{}, {}, {}]}
    request = Signal.LOGS.request_class(
        resource_logs=[{"scope_logs": [scope, scope]}, {"scope_logs": [scope]}]
    )
    assert _decode(request.SerializeToString(), signal=Signal.LOGS).item_count == 9
