"""How long a catch-up takes on AWS, and what it costs, from the drain's measured costs.

During an outage the ingest writes one S3 object (one OTLP/JSON line) per export, so a
one-hour outage at E exports/s leaves N = 3600 * E objects. The drain's workers replay
them; each worker is bound by its CPU or by S3's latency, all of them together by
DrainRate:

    per worker   X = min(v / c, R / L)            objects/s
    all workers  T = min(W * X, rate * B)          objects/s
    catch-up     H = N / T                         seconds
    Lambda       W * H * M                         GB-seconds
    requests     N * (GET, LIST, DeleteObjects, DynamoDB units per object)

c: the drain's CPU per object (measured by the bench); v: the vCPU share of the function
(memory ÷ 1,769 MB, at most one: the GIL keeps a Python process on about one core);
R: parallel GETs per worker; L: S3's GET latency (an assumption: AWS is not here);
W: workers (DrainConcurrency, at most one per signal and shard); B: lines per replay
request (DrainBatchLines, fewer when DrainBatchBytes closes the batch first); M: the
function's memory in GB. The per-batch waits of a worker (its DeleteObjects, checkpoint
writes and POST, a few tens of ms per 200 objects) are left out: they add under 5 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Lambda: "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda developer guide,
# "Configuring Lambda function memory"); CPU is allotted in proportion to memory.
MB_PER_VCPU = 1769
# S3 is not here to measure: for small requests its median latency is "in the tens of
# milliseconds" (S3 performance best practices, "Timeouts and retries"); 25 ms assumed.
ASSUMED_GET_LATENCY = 0.025
EXPORT_RATES = (1000, 3000, 10000)  # exports/s during the outage: the README's three rows


@dataclass(frozen=True)
class Prices:
    """AWS list prices, us-east-1, as published on 2026-12-01 (USD)."""

    lambda_gb_second: float = 0.0000133334  # arm64, first 7.5 billion GB-s a month
    s3_get: float = 0.0004 / 1000  # S3 Standard GET
    # LIST; DeleteObjects is a POST and is counted here too (single DELETEs are free).
    s3_list_or_post: float = 0.005 / 1000
    dynamodb_write_unit: float = 0.625 / 1e6  # on-demand
    dynamodb_read_unit: float = 0.125 / 1e6


PRICES = Prices()


@dataclass(frozen=True)
class DrainInputs:
    cpu_per_object: float  # seconds of CPU per object, as measured (one core of the bench machine)
    line_bytes: float  # mean OTLP/JSON line of the backlog
    get_latency: float  # seconds, S3 GET on AWS (assumed)
    memory_mb: int
    readers: int
    workers: int
    rate: float  # requests/s, all workers together
    batch_lines: int
    batch_bytes: int
    s3_gets: float = 1.0  # requests per object
    s3_lists: float = 0.0
    s3_deletes: float = 0.0
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0

    @property
    def vcpu(self) -> float:
        return min(1.0, self.memory_mb / MB_PER_VCPU)

    @property
    def lines_per_request(self) -> int:
        by_bytes = math.ceil(self.batch_bytes / self.line_bytes) if self.line_bytes > 0 else 1
        return max(1, min(self.batch_lines, by_bytes))

    def per_worker(self) -> tuple[float, str]:
        """Objects/s one worker drains, and what bounds it."""
        by_cpu = self.vcpu / self.cpu_per_object
        by_latency = self.readers / self.get_latency
        return (by_cpu, "CPU") if by_cpu <= by_latency else (by_latency, "S3 latency")

    def total(self) -> tuple[float, str]:
        """Objects/s of all the workers together, and what bounds it."""
        per_worker, bound = self.per_worker()
        by_rate = self.rate * self.lines_per_request
        workers = self.workers * per_worker
        return (workers, bound) if workers <= by_rate else (by_rate, "DrainRate")


@dataclass(frozen=True)
class CatchUp:
    exports_per_second: float
    objects: int
    objects_per_second: float
    bound: str
    hours: float
    lambda_usd: float
    s3_usd: float
    dynamodb_usd: float

    @property
    def total_usd(self) -> float:
        return self.lambda_usd + self.s3_usd + self.dynamodb_usd


def catch_up(
    inputs: DrainInputs,
    exports_per_second: float,
    outage_hours: float = 1.0,
    prices: Prices = PRICES,
) -> CatchUp:
    objects = round(exports_per_second * outage_hours * 3600)
    speed, bound = inputs.total()
    seconds = objects / speed
    gb_seconds = inputs.workers * seconds * inputs.memory_mb / 1024
    s3 = objects * (
        inputs.s3_gets * prices.s3_get
        + (inputs.s3_lists + inputs.s3_deletes) * prices.s3_list_or_post
    )
    dynamodb = objects * (
        inputs.dynamodb_write_units * prices.dynamodb_write_unit
        + inputs.dynamodb_read_units * prices.dynamodb_read_unit
    )
    return CatchUp(
        exports_per_second=exports_per_second,
        objects=objects,
        objects_per_second=speed,
        bound=bound,
        hours=seconds / 3600,
        lambda_usd=gb_seconds * prices.lambda_gb_second,
        s3_usd=s3,
        dynamodb_usd=dynamodb,
    )


def table(rows: list[CatchUp]) -> list[str]:
    """The rows as the README shows them."""
    lines = [
        "| exports/s during a 1 h outage | objects | drained/s (bound) | catch-up | "
        "Lambda | S3 | DynamoDB | total, USD |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.exports_per_second:,.0f} | {row.objects / 1e6:.1f} M | "
            f"{row.objects_per_second:,.0f} ({row.bound}) | {row.hours:.1f} h | "
            f"{row.lambda_usd:.2f} | {row.s3_usd:.2f} | {row.dynamodb_usd:.2f} | "
            f"**{row.total_usd:.2f}** |"
        )
    return lines
