"""OTLP/JSON -> protobuf export request, strict where the spec is and lenient where it must be.

Accepted, as the OTLP spec and proto3 JSON parsers do: hex trace/span ids in either case,
lowerCamelCase or original snake_case keys, enums as integers or names, integers as JSON
numbers or decimal strings, doubles as numbers or "NaN"/"Infinity"/"-Infinity", ``null``
for "default". Unknown fields are ignored (receivers MUST ignore them). Anything else,
and messages nested deeper than the binary parser allows, is a ``BadRequestError`` naming
the offending field (``resourceSpans[0].scopeSpans[0].spans[3].traceId``).

orjson parses the document; builders per message type, generated once from descriptors,
check each value and turn the object into constructor keywords; upb then builds the
whole message in one constructor call. That is several times faster than
``json_format.Parse``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson

from otlp_failover.codec._gc import paused_gc
from otlp_failover.codec._json_fast import _HELPERS, _VERBATIM, _fast_source, _repeated
from otlp_failover.codec._json_values import (
    Converter,
    InvalidValueError,
    describe,
    scalar_converter,
)
from otlp_failover.codec._schema import (
    MAX_MESSAGE_DEPTH,
    check_supported,
    single_oneof,
)
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal


def decode_json(signal: Signal, data: bytes) -> Any:
    """Parse one OTLP/JSON export request of ``signal``; BadRequestError if it is not one."""
    return parse_json_message(signal.request_class, data, what=f"OTLP/JSON {signal} request")


def parse_json_message(message_class: Any, data: bytes, *, what: str = "OTLP/JSON") -> Any:
    """Parse an OTLP/JSON document into ``message_class`` (requests and responses alike)."""
    descriptor = message_class.DESCRIPTOR
    build = _fast.get(descriptor) or _compile(descriptor)
    try:
        with paused_gc():
            document = orjson.loads(data)
            try:
                kwargs = build(document, 0)
            except InvalidValueError:
                # The fast builders do not say where a value is wrong; the generic ones, run
                # again from the top, find the first bad value in document order and its path.
                kwargs = _generic[descriptor](document, 0)
            return message_class(**kwargs)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"{what}: {_json_problem(data, exc)}") from exc
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


# Message converters, two per type, built once like the encoders.
#
# The generic builder walks the keys of a JSON object and looks each up in a table of
# field converters: it takes every form the spec allows (snake_case names, nulls, unknown
# fields) and, when a value is wrong, says where. The fast builder is generated from the
# descriptor (as json_encode's encoders are) for the form encoders write: lowerCamelCase
# keys, each field read with one dict lookup and converted inline, ids and numbers
# without a converter call. An object with any other key goes to the generic loop (whose
# message fields still use the fast builders, so only that object pays); a wrong value
# anywhere raises, unlocated, and parse_json_message runs the generic builders alone.

_fast: dict[Any, Converter] = {}
_generic: dict[Any, Converter] = {}
_lock = threading.Lock()


def _compile(root: Any) -> Converter:
    with _lock:
        if root in _fast:
            return _fast[root]
        # Built aside and published whole: another thread never sees a builder whose
        # field table is still being filled.
        generic: dict[Any, Converter] = {}
        _generic_builder(root, generic)
        names: dict[Any, str] = {}
        pending = [root]
        while pending:
            descriptor = pending.pop()
            if descriptor not in names:
                names[descriptor] = f"_dec_{len(names)}"
                pending.extend(f.message_type for f in descriptor.fields if f.message_type)
        namespace: dict[str, Any] = dict(_HELPERS)
        sources = []
        for descriptor, name in names.items():
            if descriptor in _fast:
                namespace[name] = _fast[descriptor]
            else:
                sources.append(_fast_source(descriptor, name, names, namespace))
        # The source is built only from descriptor names (checked identifiers, repr()'d
        # JSON keys), never from request data.
        exec(compile("\n\n".join(sources), "<otlp-json-decoders>", "exec"), namespace)  # noqa: S102
        for descriptor, name in names.items():
            if descriptor not in _fast:
                # The fallback of an object with keys the fast builder does not read.
                namespace[f"_loop{name}"] = _loop(descriptor, lambda d: namespace[names[d]])
        _generic.update(generic)
        for descriptor, name in names.items():
            _fast.setdefault(descriptor, namespace[name])
        return _fast[root]


# The generic builders.


def _generic_builder(descriptor: Any, building: dict[Any, Converter]) -> Converter:
    known = _generic.get(descriptor) or building.get(descriptor)
    if known is not None:
        return known
    return _loop(descriptor, lambda d: _generic_builder(d, building), building)


def _loop(
    descriptor: Any,
    resolve: Callable[[Any], Converter],
    building: dict[Any, Converter] | None = None,
) -> Converter:
    """The builder that walks the object's keys; ``resolve`` gives message fields' builders."""
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

    if building is not None:
        # Registered before the fields so recursive types (AnyValue) find themselves.
        building[descriptor] = build
    for field in descriptor.fields:
        if field.message_type is not None:
            convert = resolve(field.message_type)
        else:
            convert = scalar_converter(field)
        if field.is_repeated:
            convert = _repeated(convert)
        verbatim = None if field.is_repeated else _VERBATIM.get(field.type)
        table[field.json_name] = table[field.name] = (field.name, convert, verbatim)
    return build
