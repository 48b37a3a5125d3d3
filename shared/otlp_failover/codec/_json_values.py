"""OTLP/JSON scalar values -> what the protobuf constructor takes, checked.

Each converter takes the JSON value (and the message depth, which scalars ignore) and
returns the field value, or raises ``InvalidValueError`` saying what was expected.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

from otlp_failover.codec._schema import INT_RANGES, id_length

Converter = Callable[[Any, int], Any]

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_URLSAFE = str.maketrans("-_", "+/")


class InvalidValueError(Exception):
    """A value that does not fit its field; ``path`` grows as the error unwinds.

    ``culprit`` is the JSON value being converted at the level the error has reached, so
    an array finds the index of its failing item without converting anything again.
    """

    def __init__(self, problem: str, culprit: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.culprit = culprit
        self.path: list[str | int] = []


def _string(value: Any, _depth: int) -> str:
    if type(value) is str:
        return value
    raise InvalidValueError(f"expected a string, got {describe(value)}", value)


def _bool(value: Any, _depth: int) -> bool:
    if value is True or value is False:
        return value
    raise InvalidValueError(f"expected true or false, got {describe(value)}", value)


def _to_int(value: Any) -> int:
    if type(value) is int:
        return value
    # ASCII digits only: str.isdigit() alone takes "٣" and "²", which the regex does not.
    if type(value) is str and ((value.isdigit() and value.isascii()) or _INTEGER.fullmatch(value)):
        return int(value)
    if type(value) is float and value.is_integer():
        return int(value)
    raise InvalidValueError(f"expected an integer, got {describe(value)}", value)


def _integer(low: int, high: int) -> Callable[[Any, int], int]:
    def convert(value: Any, _depth: int) -> int:
        number = value if type(value) is int else _to_int(value)
        if low <= number <= high:
            return number
        raise InvalidValueError(f"integer {number} out of range [{low}, {high}]", value)

    return convert


def _enum(enum_type: Any) -> Converter:
    by_name: dict[str, int] = {value.name: value.number for value in enum_type.values}
    in_range = _integer(*INT_RANGES[FieldDescriptor.TYPE_ENUM])

    def convert(value: Any, depth: int) -> int:
        if type(value) is str and value in by_name:
            return by_name[value]
        if type(value) is str and not _INTEGER.fullmatch(value):
            raise InvalidValueError(f"unknown {enum_type.full_name} value {value!r}", value)
        return in_range(value, depth)

    return convert


def _double(value: Any, _depth: int) -> float:
    if isinstance(value, float):
        return value
    try:
        if type(value) is int:
            return float(value)
        if isinstance(value, str):
            if value in _SPECIAL_DOUBLES:
                return _SPECIAL_DOUBLES[value]
            if _NUMBER.fullmatch(value):
                number = float(value)
                if math.isfinite(number):
                    return number
                raise OverflowError
    except OverflowError:
        raise InvalidValueError("number out of the range of a double", value) from None
    raise InvalidValueError(f"expected a number, got {describe(value)}", value)


def _bytes(value: Any, _depth: int) -> bytes:
    # proto3 JSON: standard or URL-safe base64, padding optional.
    if type(value) is str:
        try:
            text = value.translate(_URLSAFE)
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            pass
    raise InvalidValueError(f"expected base64 bytes, got {describe(value)}", value)


def _hex_id(length: int) -> Converter:
    def convert(value: Any, _depth: int) -> bytes:
        if type(value) is str:
            if not value:
                return b""
            if len(value) == 2 * length:
                try:
                    decoded = bytes.fromhex(value)
                except ValueError:
                    decoded = b""
                if len(decoded) == length:
                    return decoded
        raise InvalidValueError(
            f"expected {2 * length} hex characters, got {describe(value)}", value
        )

    return convert


def describe(value: Any) -> str:
    """How an error message names a JSON value."""
    if value is None:
        return "null"
    if type(value) is str:
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    names = {dict: "an object", list: "an array", bool: "a boolean", int: "an integer"}
    return names.get(type(value), "a number")


_SCALARS: dict[int, Converter] = {
    FieldDescriptor.TYPE_STRING: _string,
    FieldDescriptor.TYPE_BOOL: _bool,
    FieldDescriptor.TYPE_DOUBLE: _double,
    FieldDescriptor.TYPE_FLOAT: _double,
}


def scalar_converter(field: Any) -> Converter:
    """The converter of a non-message field (repeated or not, one value at a time)."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_BYTES:
        length = id_length(field)
        return _bytes if length is None else _hex_id(length)
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum(field.enum_type)
    if kind in INT_RANGES:
        return _integer(*INT_RANGES[kind])
    if kind in _SCALARS:
        return _SCALARS[kind]
    msg = f"{field.full_name}: unsupported field type {kind}"
    raise TypeError(msg)
