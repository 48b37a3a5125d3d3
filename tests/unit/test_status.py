"""The /status document: errors as codes only (no ARNs), a capped backlog marked truncated."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from otlp_failover.backup.reader import BackupReader
from otlp_failover.failover.levels import Level
from otlp_failover.failover.state import SignalState
from otlp_failover.gateway.status import StatusPage
from otlp_failover.signals import Signal
from tests.unit.drain.backlog import LAYOUT, seed
from tests.unit.fakes import MemoryObjectStore, MemoryStateStore, ScriptedExporter

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
LEVELS = (Level(0, (ScriptedExporter("otlphttp/primary"),)), Level(1, (ScriptedExporter("s3"),)))


def page(store: MemoryStateStore, objects: MemoryObjectStore) -> StatusPage:
    return StatusPage(store, LEVELS, BackupReader(objects, LAYOUT), max_retries=3)


def test_a_state_error_shows_its_code_and_nothing_of_the_aws_message() -> None:
    store, objects = MemoryStateStore(), MemoryObjectStore()
    store.failing = True  # its message names a role ARN
    objects.failing.add("list")
    document = page(store, objects).document(NOW)
    assert document["signals"]["traces"] == {
        "level": None,
        "failures": None,
        "error": "ThrottlingException",
    }
    assert document["backlog"]["traces"] == {"objects": None, "error": "SlowDown"}
    assert "arn:" not in json.dumps(document)


def test_levels_and_backlog_per_signal() -> None:
    store, objects = MemoryStateStore({Signal.LOGS: SignalState(1, 2)}), MemoryObjectStore()
    seed(objects, ["a"], ["b"], signal=Signal.LOGS)
    document = page(store, objects).document(NOW)
    assert document["signals"]["logs"]["level"] == 1
    assert document["signals"]["logs"]["level_name"] == "s3"
    assert document["backlog"]["logs"]["objects"] == 2
    assert document["backlog"]["logs"]["truncated"] is False
