"""The DynamoDB state store against moto: writes hold only in the epoch they were decided in,
and /status shows an AWS error's code, never its message."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from otlp_failover.aws.dynamodb_state import DynamoDBStateStore
from otlp_failover.errors import StateStoreError
from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal
from otlp_failover_dev.local.aws import AwsEmulator
from tests.functional.gateway import Gateway

TRACES = Signal.TRACES


@pytest.fixture
def store(aws: AwsEmulator, state_table: str) -> DynamoDBStateStore:
    moments: Iterator[float] = iter(1_800_000_000.25 + 60 * n for n in range(100))
    return DynamoDBStateStore(aws.dynamodb(), state_table, wall_clock=lambda: next(moments))


def test_a_failover_decided_before_a_recovery_does_nothing_after_it(
    store: DynamoDBStateStore,
) -> None:
    counted = SignalState()
    for _ in range(3):
        counted = store.count_failure(TRACES, 0, 0.0)  # the third failure, decided at epoch 0
    assert counted == SignalState(0, 3)
    failed_over, _ = store.move(TRACES, 0, 1, 0.0)  # another instance moved first...
    recovered, _ = store.move(TRACES, 1, 0, failed_over.changed_at)  # ...and the probe back
    assert recovered.level == 0 and recovered.changed_at > failed_over.changed_at > 0

    late, moved = store.move(TRACES, 0, 1, counted.changed_at)  # the slow instance's move
    assert not moved and late == recovered
    assert store.read(TRACES) == recovered


def test_counts_and_resets_hold_only_in_their_epoch(store: DynamoDBStateStore) -> None:
    first, _ = store.move(TRACES, 0, 1, 0.0)
    again, _ = store.move(TRACES, 1, 2, first.changed_at)
    assert store.count_failure(TRACES, 2, first.changed_at) == again  # stale: not counted
    assert store.count_failure(TRACES, 2, again.changed_at).failures == 1
    assert store.reset_failures(TRACES, 2, first.changed_at).failures == 1  # stale: kept
    assert store.reset_failures(TRACES, 2, again.changed_at).failures == 0


def test_concurrent_failures_of_one_epoch_all_count(store: DynamoDBStateStore) -> None:
    moved, _ = store.move(TRACES, 0, 1, 0.0)
    for expected in range(1, 4):
        assert store.count_failure(TRACES, 1, moved.changed_at).failures == expected


def test_a_state_error_carries_its_code_and_status_shows_only_that(
    aws: AwsEmulator, chain_env: dict[str, str]
) -> None:
    missing = DynamoDBStateStore(aws.dynamodb(), "no-such-table")
    with pytest.raises(StateStoreError) as caught:
        missing.read(TRACES)
    assert caught.value.code == "ResourceNotFoundException"

    gateway = Gateway.build({**chain_env, "STATE_TABLE": "no-such-table"})
    reply = gateway.send("/status", method="GET", content_type=None)
    document = json.loads(reply.body)
    assert document["signals"]["traces"]["error"] == "ResourceNotFoundException"
    assert "Requested resource" not in reply.body.decode()  # AWS's message stays in the logs
