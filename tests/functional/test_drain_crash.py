"""The drain killed at every point of its work, then restarted: nothing lost, and nothing a
checkpoint covers is sent twice.

A crash is ``Killed`` (``otlp_failover_dev.faults``), a ``BaseException`` raised from inside
the drain's own calls (as a Lambda timeout or an out-of-memory kill would end it): after a
POST was accepted but before the checkpoint, after the checkpoint but before the delete,
after the delete but before the checkpoint is cleared, and while reading an object. The
restart is a fresh drainer with a fresh store, like the next Lambda invocation.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.backup.reader import BackupReader
from otlp_failover.drain.drainer import Drainer
from otlp_failover.drain.pacer import Pacer
from otlp_failover.drain.ports import CheckpointStore, DrainUnit
from otlp_failover.drain.sender import BatchSender
from otlp_failover.failover.levels import Level
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import DrainLimits, Settings
from otlp_failover.signals import Signal
from otlp_failover_dev.faults import (
    Killed,
    KillingCheckpoints,
    KillSwitch,
    killing_level,
    killing_reader,
)
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.backlog_helpers import bucket_keys, received_names, seed_backlog

OBJECTS, LINES_PER_OBJECT = 6, 5  # 30 lines; batches of 4 cross objects and split them
LIMITS = DrainLimits(rate=10_000.0, batch_lines=4, read_ahead_bytes=1024, readers=2)
UNIT = DrainUnit(Signal.TRACES, "s00")  # where seed_backlog writes


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
    switch = KillSwitch(point, at)

    def drainer(level: Level, store: CheckpointStore, backup: BackupReader) -> Drainer:
        sender = BatchSender(Signal.TRACES, level, Pacer(LIMITS.rate), LIMITS.batch_bytes)
        return Drainer(UNIT, sender, backup, store, limits=LIMITS)

    level = runtime.levels[0]
    fresh_store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    crashed = False
    try:
        drainer(
            killing_level(level, switch, "post"),
            KillingCheckpoints(fresh_store, switch),
            killing_reader(reader, switch),
        ).run(time.monotonic() + 60)
    except Killed:
        crashed = True
    assert crashed, f"the drain finished before call {at} of {point}: CALLS is out of date"

    restarted = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    tally = drainer(level, restarted, reader).run(time.monotonic() + 60)

    received = received_names(backend)
    assert tally.stopped == ""
    assert set(received) == set(names), "a line was lost"
    duplicates = Counter({name: n - 1 for name, n in received.items() if n > 1})
    allowed = set(switch.in_flight) if may_duplicate else set()
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
    counter = KillSwitch(f"{operation}:never", at=0)
    store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    drainer = Drainer(
        UNIT,
        BatchSender(
            Signal.TRACES,
            killing_level(runtime.levels[0], counter, "post"),
            Pacer(LIMITS.rate),
            LIMITS.batch_bytes,
        ),
        killing_reader(reader, counter),
        KillingCheckpoints(store, counter),
        limits=LIMITS,
    )
    drainer.run(time.monotonic() + 60)
    assert counter.calls == CALLS[operation]
