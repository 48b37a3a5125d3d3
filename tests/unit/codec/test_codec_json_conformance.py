"""The official OTLP/JSON examples decode, re-encode in the backup format, and round-trip."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf import json_format

from otlp_failover.codec import decode_json, encode_json
from otlp_failover.signals import Signal
from tests.unit.codec.otlp_codec_samples import CONFORMANCE_DIR, CONFORMANCE_FILES, ID_KEYS

SIGNALS = list(CONFORMANCE_FILES)


def _example(signal: Signal) -> bytes:
    path = CONFORMANCE_DIR / CONFORMANCE_FILES[signal]
    assert path.is_file(), f"conformance example missing: {path} (shared/ beside the repo)"
    return path.read_bytes()


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _walk(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [pair for item in value for pair in _walk(item, path)]
    return [(path, value)]


@pytest.mark.parametrize("signal", SIGNALS, ids=str)
def test_official_example_decodes_reencodes_and_decodes_to_the_same_message(
    signal: Signal,
) -> None:
    message = decode_json(signal, _example(signal))
    assert message.ListFields(), "the example decoded to an empty request"
    assert decode_json(signal, encode_json(message)) == message


@pytest.mark.parametrize("signal", SIGNALS, ids=str)
def test_official_example_decodes_to_what_json_format_gives_for_base64_ids(
    signal: Signal,
) -> None:
    document = json.loads(_example(signal))
    for holder in _dicts(document):
        for key in ID_KEYS & holder.keys():
            # json_format speaks proto3 JSON: base64 ids.
            holder[key] = base64.b64encode(bytes.fromhex(holder[key])).decode()
    expected = json_format.ParseDict(document, signal.request_class())
    assert decode_json(signal, _example(signal)) == expected


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(d for item in value.values() for d in _dicts(item))]
    if isinstance(value, list):
        return [d for item in value for d in _dicts(item)]
    return []


@pytest.mark.parametrize("signal", SIGNALS, ids=str)
def test_reencoded_example_uses_lowercase_hex_ids_integer_enums_and_string_int64(
    signal: Signal,
) -> None:
    encoded = encode_json(decode_json(signal, _example(signal)))
    assert not encoded.endswith(b"\n")
    leaves = _walk(json.loads(encoded))
    ids = [value for path, value in leaves if path.rsplit(".", 1)[-1] in ID_KEYS]
    for value in ids:
        assert value == value.lower()
        assert len(value) in (16, 32)
        bytes.fromhex(value)
    nanos = [value for path, value in leaves if path.endswith("UnixNano")]
    assert nanos, "the example has timestamps"
    assert all(isinstance(value, str) and value.isdigit() for value in nanos)
    enums = [
        value
        for path, value in leaves
        if path.rsplit(".", 1)[-1] in {"kind", "aggregationTemporality", "severityNumber", "code"}
    ]
    assert all(type(value) is int for value in enums)
    if signal is not Signal.METRICS:
        assert ids, "the example has trace/span ids"
    if signal is not Signal.LOGS:
        assert enums, "the example has enums"


def test_trace_example_ids_keep_their_bytes_through_the_case_change() -> None:
    span = decode_json(Signal.TRACES, _example(Signal.TRACES)).resource_spans[0]
    first = span.scope_spans[0].spans[0]
    assert first.trace_id == bytes.fromhex("5B8EFFF798038103D269B633813FC60C")
    assert b'"traceId":"5b8efff798038103d269b633813fc60c"' in encode_json(
        decode_json(Signal.TRACES, _example(Signal.TRACES))
    )


def test_metrics_example_int64_json_numbers_become_decimal_strings() -> None:
    encoded = json.loads(encode_json(decode_json(Signal.METRICS, _example(Signal.METRICS))))
    point = encoded["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"][0]
    assert point["timeUnixNano"] == "1544712660300000000"
