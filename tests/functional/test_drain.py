"""The drain against the moto bucket and a real backend: order, rate, failures, bad data."""

from __future__ import annotations

import time

import pytest

from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.drain.job import DrainReport
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import DrainLimits, Settings
from otlp_failover.signals import Signal
from otlp_failover_dev.items import item_names
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.backlog_helpers import bucket_keys, received_names, seed_backlog

FAST = DrainLimits(rate=1000.0, batch_lines=7)


@pytest.fixture
def runtime(chain_env: dict[str, str]) -> Runtime:
    return Runtime.build(Settings.from_environment(chain_env))


@pytest.fixture
def drain_store(runtime: Runtime) -> DynamoDBDrainStore:
    return DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)


def run_drain(
    runtime: Runtime, store: DynamoDBDrainStore, budget: float, limits: DrainLimits
) -> DrainReport:
    """One drain run as the function makes it, with ``store`` as its lease and checkpoints."""
    return runtime.drain_job(lease=store, checkpoints=store, limits=limits).run(budget)


def test_drain_replays_every_line_once_oldest_first_and_empties_the_backlog(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    names = seed_backlog(aws, backup_bucket, objects=20, lines_per_object=3)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    (tally,) = [t for t in report.tallies if t.signal.value == "traces"]
    assert (tally.objects, tally.lines, tally.stopped) == (20, 60, "")
    received = received_names(backend)
    assert received == {name: 1 for name in names}
    order = [name for e in backend.exports for name in item_names(Signal.TRACES, e.message)]
    assert order == names  # oldest first, lines in file order
    assert bucket_keys(aws, backup_bucket, "backup/") == []
    assert tally.requests == 9  # 60 lines in batches of 7


def test_drain_stops_at_the_first_backend_failure_and_keeps_the_rest(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    seed_backlog(aws, backup_bucket, objects=5)
    backend.set_mode("status", status=503)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    (tally,) = [t for t in report.tallies if t.signal.value == "traces"]
    assert "failed" in tally.stopped and tally.objects == 0
    assert len(bucket_keys(aws, backup_bucket, "backup/")) == 5


def test_drain_honours_its_rate(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    seed_backlog(aws, backup_bucket, objects=6)
    started = time.monotonic()
    run_drain(runtime, drain_store, 60, limits=DrainLimits(rate=10.0, batch_lines=1))
    # 6 requests at 10/s: the first goes at once, the last no sooner than 0.5 s later.
    assert time.monotonic() - started >= 0.5
    assert backend.accepted_exports == 6


def test_lines_refused_as_bad_data_are_set_aside_with_the_reason(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    names = seed_backlog(aws, backup_bucket, objects=4, lines_per_object=3, bad={"o0001-l001"})
    backend.set_mode("healthy", reject_containing="o0002-l000")
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    (tally,) = [t for t in report.tallies if t.signal.value == "traces"]
    assert (tally.dead_lettered, tally.stopped) == (2, "")
    assert received_names(backend) == {n: 1 for n in names if n not in {"o0001-l001", "o0002-l000"}}
    s3 = aws.s3()
    set_aside = bucket_keys(aws, backup_bucket, "deadletter/")
    assert len(set_aside) == 2
    reasons = sorted(
        s3.head_object(Bucket=backup_bucket, Key=k)["Metadata"]["reason"] for k in set_aside
    )
    assert reasons[0].startswith("does not decode") and "bad data" in reasons[1]
    assert bucket_keys(aws, backup_bucket, "backup/") == []


def test_only_one_drain_runs_at_a_time(runtime: Runtime, drain_store: DynamoDBDrainStore) -> None:
    other = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    assert other.acquire(60)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    assert not report.ran and "another drain" in report.skipped["*"]
    other.release()
    assert run_drain(runtime, drain_store, 60, limits=FAST).ran


def test_an_expired_lock_is_taken_over(runtime: Runtime) -> None:
    crashed = DynamoDBDrainStore(
        runtime.aws.dynamodb, runtime.settings.state_table, clock=lambda: 1000.0
    )
    assert crashed.acquire(60)
    later = DynamoDBDrainStore(
        runtime.aws.dynamodb, runtime.settings.state_table, clock=lambda: 1061.0
    )
    assert later.acquire(60)


def test_the_drain_leaves_a_signal_alone_while_it_is_failed_over(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    runtime.store.move(Signal.TRACES, 0, 1, 0.0)
    seed_backlog(aws, backup_bucket, objects=2)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    assert "not an OTLP level" in report.skipped["traces"]
    assert backend.requests_seen == 0


def test_items_a_backend_drops_inside_a_200_are_counted_and_logged(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_backlog(aws, backup_bucket, objects=3)
    backend.set_mode("healthy", partial_rejected=1, partial_message="quota exceeded")
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    (tally,) = [t for t in report.tallies if t.signal.value == "traces"]
    assert (tally.lines, tally.rejected_items) == (3, 1)  # one POST of three lines
    assert "quota exceeded" in caplog.text
