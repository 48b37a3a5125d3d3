"""A backlog in a MemoryObjectStore for the drain tests: one named item per OTLP/JSON line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.codec import encode_json
from otlp_failover.drain.ports import DrainUnit
from otlp_failover.signals import Signal
from tests.unit.fakes import MemoryObjectStore, ScriptedExporter

LAYOUT = BackupLayout("backup", shards=4)
SHARD = "s00"
UNIT = DrainUnit(Signal.TRACES, SHARD)
MOMENT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def line(name: str, signal: Signal = Signal.TRACES) -> bytes:
    """One export request holding one item (span, metric or log record) called ``name``."""
    message = signal.request_class()
    if signal is Signal.TRACES:
        message.resource_spans.add().scope_spans.add().spans.add().name = name
    elif signal is Signal.METRICS:
        message.resource_metrics.add().scope_metrics.add().metrics.add().name = name
    else:
        message.resource_logs.add().scope_logs.add().log_records.add().body.string_value = name
    return bytes(encode_json(message))


def seed(
    store: MemoryObjectStore,
    *objects: Sequence[str | bytes],
    signal: Signal = Signal.TRACES,
    shard: str = SHARD,
) -> list[str]:
    """One backup object per sequence (a name is a line, bytes are a raw line), all in one
    shard; the keys, oldest first. Written newest first, so only the keys' order makes the
    drain's order."""
    keys = [
        LAYOUT.new_key(signal, MOMENT + timedelta(minutes=index), f"obj{index}", shard)
        for index in range(len(objects))
    ]
    for key, lines in reversed(list(zip(keys, objects, strict=True))):
        raw = [entry if isinstance(entry, bytes) else line(entry, signal) for entry in lines]
        store.put(key, b"\n".join(raw) + b"\n", "application/x-ndjson", {})
    return keys


def names(message: Any) -> list[str]:
    """The item names of one export request, in order."""
    if hasattr(message, "resource_spans"):
        return [x.name for r in message.resource_spans for s in r.scope_spans for x in s.spans]
    if hasattr(message, "resource_metrics"):
        return [
            x.name for r in message.resource_metrics for s in r.scope_metrics for x in s.metrics
        ]
    return [
        x.body.string_value
        for r in message.resource_logs
        for s in r.scope_logs
        for x in s.log_records
    ]


def sent(exporter: ScriptedExporter) -> list[list[str]]:
    """The item names of every request the exporter received."""
    return [names(body.message) for body in exporter.bodies]


def backlog_keys(store: MemoryObjectStore, signal: Signal = Signal.TRACES) -> list[str]:
    return [entry.key for entry in store.list(LAYOUT.signal_prefix(signal))]
