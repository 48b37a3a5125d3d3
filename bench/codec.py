"""The backup path's conversions against google.protobuf.json_format plus the id fix-up.

OTLP/JSON spells trace and span ids as hex where proto3 JSON uses base64, so the baseline
is what a careful user writes: ``MessageToDict`` (integer enums, as OTLP/JSON wants), a
recursive walk turning the id strings to hex, ``json.dumps`` (compact), exactly what
``MessageToJson`` does inside; and back: ``json.loads``, the walk the other way,
``ParseDict`` (which ``Parse`` calls). Both sides must produce the same document and the
same message, which is checked before timing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from google.protobuf import json_format  # type: ignore[import-untyped, unused-ignore]

from bench.measure import interleaved, ratio, say, spread
from bench.payloads import SIZES, export_request
from otlp_failover.codec import decode_json, encode_json
from otlp_failover.signals import Signal

CODEC_SIZE = "100KiB"  # a typical batch: a few hundred spans, points or records
ROUNDS = 60
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})


def _fix_ids(node: Any, convert: Callable[[str], str]) -> None:
    """Rewrite every id string in a MessageToDict-style tree, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                node[key] = convert(value)
            elif isinstance(value, dict | list):
                _fix_ids(value, convert)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _fix_ids(item, convert)


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def _hex_to_b64(value: str) -> str:
    return base64.b64encode(bytes.fromhex(value)).decode("ascii")


def baseline_encode(message: Any) -> bytes:
    document = json_format.MessageToDict(message, use_integers_for_enums=True)
    _fix_ids(document, _b64_to_hex)
    return json.dumps(document, separators=(",", ":")).encode()


def baseline_decode(signal: Signal, line: bytes) -> Any:
    document = json.loads(line)
    _fix_ids(document, _hex_to_b64)
    return json_format.ParseDict(document, signal.request_class())


def speedups(quick: bool) -> tuple[dict[str, float], dict[str, float]]:
    """(encode, decode) speed-ups per signal: baseline median ÷ project median."""
    encode: dict[str, float] = {}
    decode: dict[str, float] = {}
    rounds = ROUNDS // 4 if quick else ROUNDS
    for signal in Signal:
        message = export_request(signal, SIZES[CODEC_SIZE], seed=3)
        line = encode_json(message)
        if orjson.loads(baseline_encode(message)) != orjson.loads(line):
            raise AssertionError(f"{signal}: the baseline encodes another document")
        if baseline_decode(signal, line) != decode_json(signal, line):
            raise AssertionError(f"{signal}: the baseline decodes another message")
        ours, theirs = interleaved(
            partial(encode_json, message), partial(baseline_encode, message), rounds=rounds
        )
        encode[signal.value] = ratio(theirs, ours)
        say(
            f"  encode {signal.value:7} ({message.ByteSize():,} B protobuf -> {len(line):,} B "
            f"JSON): codec {spread(ours)}, json_format {spread(theirs)} "
            f"-> x{encode[signal.value]:.2f}"
        )
        ours, theirs = interleaved(
            partial(decode_json, signal, line),
            partial(baseline_decode, signal, line),
            rounds=rounds,
        )
        decode[signal.value] = ratio(theirs, ours)
        say(
            f"  decode {signal.value:7}: codec {spread(ours)}, json_format {spread(theirs)} "
            f"-> x{decode[signal.value]:.2f}"
        )
    return encode, decode
