"""OTLP/JSON -> protobuf export request, strict where the spec is and lenient where it must be.

Accepted, as the OTLP spec and proto3 JSON parsers do: hex trace/span ids in either case,
lowerCamelCase or original snake_case keys, enums as integers or names, integers as JSON
numbers or decimal strings, doubles as numbers or "NaN"/"Infinity"/"-Infinity", ``null``
for "default". Unknown fields are ignored (receivers MUST ignore them). Anything else,
and messages nested deeper than the binary parser allows, is a ``BadRequestError`` naming
the offending field (``resourceSpans[0].scopeSpans[0].spans[3].traceId``).

orjson parses the document; a converter per message type, built once from descriptors,
checks each value and turns the object into constructor keywords; upb then builds the
whole message in one constructor call. That is several times faster than
``json_format.Parse``.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

from otlp_failover.codec._json_values import (
    Converter,
    InvalidValueError,
    describe,
    scalar_converter,
)
from otlp_failover.codec._schema import MAX_MESSAGE_DEPTH, check_supported, single_oneof
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal


def decode_json(signal: Signal, data: bytes) -> Any:
    """Parse one OTLP/JSON export request of ``signal``; BadRequestError if it is not one."""
    return parse_json_message(signal.request_class, data, what=f"OTLP/JSON {signal} request")


def parse_json_message(message_class: Any, data: bytes, *, what: str = "OTLP/JSON") -> Any:
    """Parse an OTLP/JSON document into ``message_class`` (requests and responses alike)."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"{what}: {_json_problem(data, exc)}") from exc
    build = _builders.get(message_class.DESCRIPTOR) or _compile(message_class.DESCRIPTOR)
    try:
        return message_class(**build(document, 0))
    except InvalidValueError as exc:
        raise BadRequestError(f"{what}: {_format_path(exc.path)}{exc.problem}") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        # The converters check every value; this is a last line for what upb still refuses.
        raise BadRequestError(f"{what}: {exc}") from exc


def _json_problem(data: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as utf8:
        return f"body is not valid UTF-8 (byte {utf8.start})"
    return f"invalid JSON: {exc}"


def _format_path(path: list[str | int]) -> str:
    text = ""
    for part in reversed(path):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"{text}: " if text else ""


def _repeated(convert: Converter) -> Converter:
    def convert_all(value: Any, depth: int) -> list[Any]:
        if type(value) is not list:
            raise InvalidValueError(f"expected an array, got {describe(value)}", value)
        try:
            return [convert(item, depth) for item in value]
        except InvalidValueError as exc:
            # The first item that is the culprit: an identical object fails identically.
            exc.path.append(next(i for i, item in enumerate(value) if item is exc.culprit))
            exc.culprit = value
            raise

    return convert_all


# Message converters, one per type, built once like the encoders.

# JSON values of these Python types go into these field types unchanged (every str is a
# valid string, every float a valid double): the hot path skips a converter call.
_VERBATIM: dict[int, type] = {
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_DOUBLE: float,
}

_builders: dict[Any, Converter] = {}
_lock = threading.Lock()


def _compile(root: Any) -> Converter:
    with _lock:
        if root not in _builders:
            # Built aside and published whole: another thread never sees a builder whose
            # field table is still being filled.
            building: dict[Any, Converter] = {}
            _message_builder(root, building)
            _builders.update(building)
        return _builders[root]


def _message_builder(descriptor: Any, building: dict[Any, Converter]) -> Converter:
    known = _builders.get(descriptor) or building.get(descriptor)
    if known is not None:
        return known
    check_supported(descriptor)
    table: dict[str, tuple[str, Converter, type | None]] = {}
    exclusive = single_oneof(descriptor) is not None
    groups = tuple(
        frozenset(field.name for field in oneof.fields)
        for oneof in descriptor.oneofs
        if len(oneof.fields) > 1 and not exclusive
    )
    full_name = descriptor.full_name

    def build(value: Any, depth: int) -> dict[str, Any]:
        if type(value) is not dict:
            raise InvalidValueError(f"expected a JSON object, got {describe(value)}", value)
        if depth > MAX_MESSAGE_DEPTH:
            raise InvalidValueError(
                f"messages nested deeper than {MAX_MESSAGE_DEPTH} levels", value
            )
        kwargs: dict[str, Any] = {}
        for key, item in value.items():
            entry = table.get(key)
            if entry is None or item is None:
                continue
            name, convert, verbatim = entry
            if type(item) is verbatim:
                kwargs[name] = item
                continue
            try:
                kwargs[name] = convert(item, depth + 1)
            except InvalidValueError as exc:
                exc.path.append(key)
                exc.culprit = value
                raise
        if (exclusive and len(kwargs) > 1) or (
            groups and any(len(group.intersection(kwargs)) > 1 for group in groups)
        ):
            raise InvalidValueError(f"more than one field of a oneof is set in {full_name}", value)
        return kwargs

    # Registered before the fields so recursive types (AnyValue) find themselves.
    building[descriptor] = build
    for field in descriptor.fields:
        convert = _field_converter(field, building)
        if field.is_repeated:
            convert = _repeated(convert)
        verbatim = None if field.is_repeated else _VERBATIM.get(field.type)
        table[field.json_name] = table[field.name] = (field.name, convert, verbatim)
    return build


def _field_converter(field: Any, building: dict[Any, Converter]) -> Converter:
    if field.message_type is not None:
        return _message_builder(field.message_type, building)
    return scalar_converter(field)
