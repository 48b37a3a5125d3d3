"""The drain killed at every point of its work, then restarted: nothing lost, and nothing a
checkpoint covers is sent twice.

A crash is a ``BaseException`` raised from inside the drain's own calls (as a Lambda
timeout or an out-of-memory kill would end it): after a POST was accepted but before the
checkpoint, after the checkpoint but before the delete, after the delete but before the
checkpoint is cleared, and while reading an object. The restart is a fresh drainer with a
fresh store, like the next Lambda invocation.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import Drainer
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import DrainLimits, Settings
from otlp_failover.signals import Signal
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.backlog_helpers import bucket_keys, received_names, seed_backlog

OBJECTS, LINES_PER_OBJECT = 6, 5  # 30 lines; batches of 4 cross objects and split them
LIMITS = DrainLimits(rate=10_000.0, batch_lines=4, read_ahead=2, readers=2)


class Crash(BaseException):
    """The process dies here."""


class Faults:
    """Counts calls of one operation and crashes at the chosen one, before or after it."""

    def __init__(self, operation: str, at: int) -> None:
        self.operation, self.at, self.calls = operation, at, 0
        self.in_flight: list[str] = []  # span names of the last POST the backend accepted

    def around(self, operation: str, call: Any, *args: Any) -> Any:
        name, _, when = self.operation.partition(":")
        if name != operation:
            return call(*args)
        self.calls += 1
        if self.calls == self.at and when == "before":
            raise Crash(self.operation)
        result = call(*args)
        if self.calls == self.at and when == "after":
            raise Crash(self.operation)
        return result


class FaultyLevel:
    def __init__(self, level: Any, faults: Faults) -> None:
        self.index, self.name, self._level, self._faults = level.index, level.name, level, faults

    def export(self, body: Any, deadline: float) -> Any:
        def post() -> Any:
            result = self._level.export(body, deadline)
            if result.accepted:
                self._faults.in_flight = [
                    span.name
                    for r in body.message.resource_spans
                    for s in r.scope_spans
                    for span in s.spans
                ]
            return result

        return self._faults.around("post", post)


class FaultyStore:
    def __init__(self, store: DynamoDBDrainStore, faults: Faults) -> None:
        self._store, self._faults = store, faults

    def load(self, signal: Signal) -> Any:
        return self._store.load(signal)

    def save(self, signal: Signal, checkpoint: Any) -> None:
        self._faults.around("save", self._store.save, signal, checkpoint)


class FaultyReader:
    def __init__(self, reader: BackupReader, faults: Faults) -> None:
        self._reader, self._faults = reader, faults

    def keys(self, signal: Signal) -> Any:
        return self._reader.keys(signal)

    def lines(self, key: str) -> list[bytes]:
        return self._faults.around("read", self._reader.lines, key)  # type: ignore[no-any-return]

    def delete(self, keys: list[str]) -> None:
        self._faults.around("delete", self._reader.delete, keys)

    def dead_letter(self, *args: Any) -> str:
        return self._reader.dead_letter(*args)


def backup_of(runtime: Runtime) -> BackupReader:
    assert runtime.backup is not None
    return runtime.backup


# (fault point, whether the batch in flight may arrive twice)
POINTS = [
    ("post:after", True),  # accepted, not yet checkpointed: re-sent, a duplicate
    ("save:before", True),  # the same window, seen from the checkpoint write
    ("save:after", False),  # checkpointed, not yet deleted
    ("delete:before", False),
    ("delete:after", False),  # deleted, checkpoint not yet cleared
    ("read:before", False),  # mid-object reads, nothing sent for it yet
]
# How often each operation runs in a full drain of this backlog: every call is a crash point.
CALLS = {"post": 8, "save": 14, "delete": 6, "read": 6}
CASES = [(p, at, dup) for p, dup in POINTS for at in range(1, CALLS[p.partition(":")[0]] + 1)]


@pytest.mark.parametrize(
    ("point", "at", "may_duplicate"), CASES, ids=[f"{p}#{a}" for p, a, _ in CASES]
)
def test_a_drain_killed_anywhere_loses_nothing_and_resends_nothing_checkpointed(
    chain_env: dict[str, str],
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
    point: str,
    at: int,
    may_duplicate: bool,
) -> None:
    names = seed_backlog(aws, backup_bucket, OBJECTS, LINES_PER_OBJECT)
    runtime = Runtime.build(Settings.from_environment(chain_env))
    reader = backup_of(runtime)
    faults = Faults(point, at)

    def drainer(level: Any, store: Any, backup: Any) -> Drainer:
        return Drainer(Signal.TRACES, level, backup, store, limits=LIMITS)

    level = runtime.levels[0]
    fresh_store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    crashed = False
    try:
        drainer(
            FaultyLevel(level, faults),
            FaultyStore(fresh_store, faults),
            FaultyReader(reader, faults),
        ).run(time.monotonic() + 60)
    except Crash:
        crashed = True
    assert crashed, f"the drain finished before call {at} of {point}: CALLS is out of date"

    restarted = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    tally = drainer(level, restarted, reader).run(time.monotonic() + 60)

    received = received_names(backend)
    assert tally.stopped == ""
    assert set(received) == set(names), "a line was lost"
    duplicates = Counter({name: n - 1 for name, n in received.items() if n > 1})
    allowed = set(faults.in_flight) if may_duplicate else set()
    assert set(duplicates) <= allowed, f"re-sent past a checkpoint: {sorted(duplicates)}"
    assert all(n == 1 for n in duplicates.values())
    assert bucket_keys(aws, backup_bucket, "backup/") == []


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_the_crash_points_cover_every_call_of_a_full_drain(
    chain_env: dict[str, str], aws: AwsEmulator, backup_bucket: str, operation: str
) -> None:
    seed_backlog(aws, backup_bucket, OBJECTS, LINES_PER_OBJECT)
    runtime = Runtime.build(Settings.from_environment(chain_env))
    reader = backup_of(runtime)
    counter = Faults(f"{operation}:never", at=0)
    store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    drainer = Drainer(
        Signal.TRACES,
        FaultyLevel(runtime.levels[0], counter),
        FaultyReader(reader, counter),
        FaultyStore(store, counter),
        limits=LIMITS,
    )
    drainer.run(time.monotonic() + 60)
    assert counter.calls == CALLS[operation]
