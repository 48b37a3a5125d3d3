"""The catch-up model of ``make bench``: which bound binds, and what the hours and dollars
follow from. Inputs are chosen so each bound binds in turn; expectations follow from the
formula in bench/catchup.py, written out again here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.catchup import MB_PER_VCPU, PRICES, DrainInputs, catch_up

BASE = DrainInputs(
    cpu_per_object=0.004,
    line_bytes=2300,
    get_latency=0.025,
    memory_mb=512,
    readers=4,
    workers=8,
    rate=20.0,
    batch_lines=200,
    batch_bytes=2 * 1024 * 1024,
    s3_gets=1.0,
    s3_lists=0.001,
    s3_deletes=0.005,
    dynamodb_write_units=0.1,
)


def test_a_worker_short_of_cpu_is_bound_by_cpu_in_proportion_to_its_memory() -> None:
    speed, bound = BASE.per_worker()
    assert bound == "CPU"
    assert speed == pytest.approx(512 / MB_PER_VCPU / 0.004)
    doubled, _ = replace(BASE, memory_mb=1024).per_worker()
    assert doubled == pytest.approx(2 * speed)


def test_with_a_whole_vcpu_the_reads_bind_and_more_memory_buys_nothing() -> None:
    one_vcpu = replace(BASE, memory_mb=MB_PER_VCPU)
    speed, bound = one_vcpu.per_worker()
    assert bound == "S3 latency"
    assert speed == pytest.approx(4 / 0.025)
    # The GIL keeps one process on about one core: memory past one vCPU adds no CPU.
    assert replace(BASE, memory_mb=4 * MB_PER_VCPU).vcpu == 1.0
    assert replace(one_vcpu, memory_mb=4 * MB_PER_VCPU).per_worker() == (speed, bound)


def test_drain_rate_binds_when_the_workers_could_go_faster_than_it_allows() -> None:
    speed, bound = BASE.total()
    assert bound == "CPU"
    assert speed == pytest.approx(8 * BASE.per_worker()[0])
    speed, bound = replace(BASE, workers=100).total()
    assert (speed, bound) == (20.0 * 200, "DrainRate")


def test_large_lines_close_a_batch_at_its_bytes_so_drain_rate_binds_sooner() -> None:
    assert BASE.lines_per_request == 200
    large = replace(BASE, line_bytes=230_000)  # ~100 KiB exports as OTLP/JSON
    assert large.lines_per_request == 10  # ceil(2 MiB / 230 kB): the line that fills it counts
    assert large.total() == (20.0 * 10, "DrainRate")


def test_a_catch_up_takes_the_backlog_over_the_speed_and_bills_every_worker_meanwhile() -> None:
    row = catch_up(BASE, exports_per_second=1000)
    speed, bound = BASE.total()
    assert row.objects == 3_600_000
    assert row.bound == bound
    assert row.hours == pytest.approx(3_600_000 / speed / 3600)
    gb_seconds = 8 * row.hours * 3600 * 512 / 1024
    assert row.lambda_usd == pytest.approx(gb_seconds * PRICES.lambda_gb_second)
    s3_per_object = PRICES.s3_get + (0.001 + 0.005) * PRICES.s3_list_or_post
    assert row.s3_usd == pytest.approx(3_600_000 * s3_per_object)
    assert row.dynamodb_usd == pytest.approx(3_600_000 * 0.1 * PRICES.dynamodb_write_unit)
    assert row.total_usd == pytest.approx(row.lambda_usd + row.s3_usd + row.dynamodb_usd)


def test_the_catch_up_grows_with_the_outage_and_the_traffic_alike() -> None:
    one = catch_up(BASE, exports_per_second=1000)
    assert catch_up(BASE, exports_per_second=3000).hours == pytest.approx(3 * one.hours)
    assert catch_up(BASE, 1000, outage_hours=2.0).hours == pytest.approx(2 * one.hours)
