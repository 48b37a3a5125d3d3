"""The drain against the moto bucket and a real backend: order, rate, failures, bad data,
leases per shard, gzip replays, several shards side by side."""

from __future__ import annotations

import time

import pytest

from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.codec import encode_json
from otlp_failover.drain.drainer import DrainTally
from otlp_failover.drain.ports import DrainUnit
from otlp_failover.drain.worker import LEASE_HELD, DrainReport
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import DrainLimits, Settings
from otlp_failover.signals import Signal
from otlp_failover_dev.items import item_names
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.backlog_helpers import (
    bucket_keys,
    received_names,
    request_named,
    seed_backlog,
)

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
    return runtime.drain_job(leases=store, checkpoints=store, limits=limits).run(budget)


def traces_tally(report: DrainReport) -> DrainTally:
    """The one unit the backlog helpers seed: traces in one shard."""
    (tally,) = [t for t in report.tallies if t.unit.signal is Signal.TRACES]
    return tally


def test_drain_replays_every_line_once_oldest_first_and_empties_the_backlog(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    names = seed_backlog(aws, backup_bucket, objects=20, lines_per_object=3)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    tally = traces_tally(report)
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
    tally = traces_tally(report)
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
    tally = traces_tally(report)
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


def test_a_shard_drains_under_one_lease_at_a_time_and_a_refused_start_is_recorded(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    seed_backlog(aws, backup_bucket, objects=2, shard="s00")
    seed_backlog(aws, backup_bucket, objects=3, shard="s01", signal_prefix="other-")
    held = DrainUnit(Signal.TRACES, "s00")
    other = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    assert other.acquire(held, 60)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    assert report.skipped == {"traces/s00": LEASE_HELD}
    assert sorted(received_names(backend)) == [f"other-o{o:04d}-l000" for o in range(3)]
    assert other.release(held) is True  # the refused drain asked the holder to go again
    run_drain(runtime, drain_store, 60, limits=FAST)
    assert bucket_keys(aws, backup_bucket, "backup/") == []


def test_an_expired_lease_is_taken_over(runtime: Runtime) -> None:
    unit = DrainUnit(Signal.TRACES, "s00")
    crashed = DynamoDBDrainStore(
        runtime.aws.dynamodb, runtime.settings.state_table, clock=lambda: 1000.0
    )
    assert crashed.acquire(unit, 60)
    later = DynamoDBDrainStore(
        runtime.aws.dynamodb, runtime.settings.state_table, clock=lambda: 1061.0
    )
    assert later.acquire(unit, 60)
    assert later.release(unit) is False


def test_replays_are_gzip_compressed_and_every_shard_is_drained(
    runtime: Runtime,
    drain_store: DynamoDBDrainStore,
    aws: AwsEmulator,
    backup_bucket: str,
    backend: OtlpBackend,
) -> None:
    names = []
    for shard in ("s00", "s03", "s07", "legacy"):
        if shard == "legacy":  # a key of the unsharded layout, written before an upgrade
            key = "backup/traces/2026/11/27/09/20261127T090000.000000Z-old.jsonl"
            aws.s3().put_object(Bucket=backup_bucket, Key=key, Body=_line("old-span"))
            names.append("old-span")
        else:
            names += seed_backlog(aws, backup_bucket, objects=4, shard=shard, signal_prefix=shard)
    report = run_drain(runtime, drain_store, 60, limits=FAST)
    assert sorted(str(t.unit) for t in report.tallies) == [
        "traces/legacy",
        "traces/s00",
        "traces/s03",
        "traces/s07",
    ]
    assert received_names(backend) == {name: 1 for name in names}
    assert {e.content_encoding for e in backend.exports} == {"gzip"}
    assert bucket_keys(aws, backup_bucket, "backup/") == []


def test_shards_past_a_lowered_shard_count_are_still_drained(
    chain_env: dict[str, str], aws: AwsEmulator, backup_bucket: str, backend: OtlpBackend
) -> None:
    # Written while BackupShards was 16; the stack now runs with 2.
    runtime = Runtime.build(Settings.from_environment({**chain_env, "BACKUP_SHARDS": "2"}))
    store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    names = [
        *seed_backlog(aws, backup_bucket, objects=2, shard="s01", signal_prefix="a"),
        *seed_backlog(aws, backup_bucket, objects=3, shard="s12", signal_prefix="b"),
    ]
    assert runtime.backup is not None
    assert runtime.backup.waiting_shards(Signal.TRACES) == ["s01", "s12"]
    report = run_drain(runtime, store, 60, limits=FAST)
    assert sorted(str(t.unit) for t in report.tallies) == ["traces/s01", "traces/s12"]
    assert received_names(backend) == {name: 1 for name in names}
    assert bucket_keys(aws, backup_bucket, "backup/") == []


def _line(name: str) -> bytes:
    return bytes(encode_json(request_named(name))) + b"\n"


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
    tally = traces_tally(report)
    assert (tally.lines, tally.rejected_items) == (3, 1)  # one POST of three lines
    assert "quota exceeded" in caplog.text


def test_two_threads_of_one_process_never_hold_one_lease(runtime: Runtime) -> None:
    unit = DrainUnit(Signal.TRACES, "s00")
    store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    assert store.acquire(unit, 60)
    assert not store.acquire(unit, 60)  # the same owner, another worker thread: refused
    assert store.release(unit) is True  # and the refusal asked the holder to go again
    assert store.acquire(unit, 60)
