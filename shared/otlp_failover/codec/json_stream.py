"""One OTLP/JSON line in pieces, so that the backup of a large export fits in memory.

``encode_json`` builds the whole document as Python dicts and lists before orjson writes
it: for an export at the 20 MiB cap that is several hundred MiB of short-lived objects,
then the 40-50 MB line. Here the request, its resource entries and their scope entries
are written field by field, and the items of each scope entry (spans, metrics, log
records) ``BATCH`` at a time, so only one batch is ever held as dicts and the caller can
send each piece on before the next is made. Joined, the pieces are ``encode_json``'s
bytes exactly.

The smallest piece is one item: a single metric of a million points is encoded whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from otlp_failover.codec._gc import paused_gc
from otlp_failover.codec.json_encode import encode_json, message_encoder, shallow_encoder

# Items encoded per piece: the dicts of this many spans are a few hundred KiB.
BATCH = 64
# The request (0), a resource entry (1), a scope entry (2): their repeated message fields
# are written element by element; those of the deepest (the items) in batches.
_ITEM_DEPTH = 2


@dataclass(frozen=True)
class _Plan:
    """How to write one container type: its dict with the lists of messages left in."""

    shallow: Callable[[Any], dict[str, Any]]
    heads: dict[str, bytes]  # JSON key -> b'"key":['
    nested: dict[str, _Plan]  # JSON key of a list of containers -> their plan
    items: dict[str, Callable[[Any], Any]]  # JSON key of a list of items -> their encoder
    # Each repeated message field by protobuf name, with its elements' plan if containers.
    counted: tuple[tuple[str, _Plan | None], ...]


_plans: dict[Any, _Plan] = {}
_lock = threading.Lock()


def encode_json_chunks(message: Any, batch: int = BATCH) -> Iterator[bytes]:
    """``encode_json(message)`` in pieces; in one piece when it has ``batch`` items or fewer."""
    plan = _plans.get(message.DESCRIPTOR) or _plan_of(message.DESCRIPTOR)
    if _item_count(plan, message, batch) <= batch:
        yield encode_json(message)  # the common small export: one call, as before
        return
    yield from _write(plan, message, batch)


def _write(plan: _Plan, message: Any, batch: int) -> Iterator[bytes]:
    with paused_gc():
        document = plan.shallow(message)
    yield b"{"
    comma = b""
    for key, value in document.items():
        if key in plan.nested:
            yield comma + plan.heads[key]
            child = plan.nested[key]
            for number, element in enumerate(value):
                if number:
                    yield b","
                yield from _write(child, element, batch)
            yield b"]"
        elif key in plan.items:
            yield comma + plan.heads[key]
            yield from _batches(plan.items[key], value, batch)
            yield b"]"
        else:
            # "key":value, as orjson writes it inside the whole document
            yield comma + orjson.dumps({key: value})[1:-1]
        comma = b","
    yield b"}"


def _batches(encode: Callable[[Any], Any], items: list[Any], batch: int) -> Iterator[bytes]:
    for start in range(0, len(items), batch):
        with paused_gc():
            encoded = orjson.dumps(list(map(encode, items[start : start + batch])))
        # The elements without their brackets: one array across the batches.
        yield encoded[1:-1] if start == 0 else b"," + encoded[1:-1]


def _item_count(plan: _Plan, message: Any, enough: int) -> int:
    """The items under ``message``, counted until there are more than ``enough``."""
    count = 0
    for name, child in plan.counted:
        elements = getattr(message, name)
        if child is None:
            count += len(elements)
        else:
            for element in elements:
                count += _item_count(child, element, enough - count)
                if count > enough:
                    break
        if count > enough:
            break
    return count


def _plan_of(descriptor: Any) -> _Plan:
    with _lock:
        found = _plans.get(descriptor)
        if found is None:
            found = _plans.setdefault(descriptor, _build(descriptor, 0))
        return found


def _build(descriptor: Any, depth: int) -> _Plan:
    repeated = [f for f in descriptor.fields if f.is_repeated and f.message_type is not None]
    nested: dict[str, _Plan] = {}
    items: dict[str, Callable[[Any], Any]] = {}
    for field in repeated:
        if depth < _ITEM_DEPTH:
            nested[field.json_name] = _build(field.message_type, depth + 1)
        else:
            items[field.json_name] = message_encoder(field.message_type)
    return _Plan(
        shallow=shallow_encoder(descriptor),
        heads={f.json_name: orjson.dumps(f.json_name) + b":[" for f in repeated},
        nested=nested,
        items=items,
        counted=tuple((f.name, nested.get(f.json_name)) for f in repeated),
    )
