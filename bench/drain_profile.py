"""Where one drain worker's time goes, and the catch-up model's inputs from it.

``bench/drain_scaleout.py`` times every run of the drain per operation; this turns a
one-worker run into the progress lines (the worker thread's wall time by operation, the
drain's CPU per object by part) and the catch-up model (``bench/catchup.py``) into its
table for AWS.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench import catchup
from bench.measure import say
from bench.services import Services
from bench.timed import OpStats
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal

SHARDS = BackupLayout().shards
LIST_PAGE = 1000  # keys per ListObjectsV2 page
# Operations timed in the drain (their names in the progress lines).
GET, LIST, DELETE = "S3 GetObject", "S3 listing", "S3 DeleteObjects"
STATE, LEASE, CHECKPOINT, POST = "DynamoDB state", "DynamoDB lease", "DynamoDB checkpoint", "POST"
_WORKER_OPS = (POST, DELETE, LIST, CHECKPOINT, LEASE, STATE)


@dataclass
class DrainRun:
    workers: int
    readers: int
    objects: int
    seconds: float
    cpu: dict[str, float]  # "drain", "moto", "proxy" -> CPU seconds during the run
    ops: OpStats
    requests: Counter[str]  # AWS API requests by operation, from botocore's hooks
    put_item_bytes: int  # DynamoDB PutItem requests, in bytes

    @property
    def per_second(self) -> float:
        return self.objects / self.seconds

    def ms_per_object(self, seconds: float) -> float:
        return seconds / self.objects * 1e3


def where_one_worker_spends(run: DrainRun, latency_ms: float) -> dict[str, float]:
    """Prints the profile of a one-worker run; returns the drain's CPU per object by part."""
    ops, objects = run.ops, run.objects
    get = ops.get(GET)
    busy = get.wall / (run.readers * run.seconds)
    say(
        f"  one worker, {objects} objects in {run.seconds:.1f} s ({run.seconds / objects * 1e3:.1f}"
        f" ms each): {run.readers} reader threads, GetObject {get.wall / get.calls * 1e3:.1f} ms"
        f" each ({latency_ms:g} ms of it added by the proxy, {get.cpu / get.calls * 1e3:.2f} ms"
        f" of it botocore CPU); the readers were busy {busy:.0%} of the run"
    )
    worker_wall = {op: ops.get(op).wall for op in _WORKER_OPS}
    own_cpu = run.cpu["drain"] - ops.cpu  # decoding, merging, gzip, bookkeeping: all threads
    waiting = run.seconds - sum(worker_wall.values()) - own_cpu
    say(
        "  the worker thread: "
        + ", ".join(
            f"{op} {wall / run.seconds:.0%} ({ops.get(op).calls})"
            for op, wall in sorted(worker_wall.items(), key=lambda item: -item[1])
        )
        + f"; decoding, merging, gzip at most {own_cpu / run.seconds:.0%}; waiting for the "
        f"reads at least {waiting / run.seconds:.0%}"
    )
    parts = {
        "GetObject (botocore)": get.cpu,
        "other S3 calls": ops.get(LIST).cpu + ops.get(DELETE).cpu,
        "DynamoDB calls": sum(ops.get(op).cpu for op in (STATE, LEASE, CHECKPOINT)),
        "POST to the backend": ops.get(POST).cpu,
    }
    parts["the rest (decode, merge, gzip, threads)"] = run.cpu["drain"] - sum(parts.values())
    per_object = {name: round(run.ms_per_object(cpu), 3) for name, cpu in parts.items()}
    say(
        f"  CPU per object in the drain {run.ms_per_object(run.cpu['drain']):.2f} ms: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in per_object.items())
    )
    return per_object


def _per_object(runs: list[DrainRun], pick: Callable[[DrainRun], float]) -> float:
    return float(statistics.median(pick(run) / run.objects for run in runs))


def model_inputs(services: Services, one: list[DrainRun], backlog: dict[str, bytes]) -> Any:
    """The catch-up model's inputs: the drain's CPU and DynamoDB bytes per object measured
    (one worker), the requests a large backlog takes per object from the drain's design (a
    small bench backlog lists and deletes more often per object than a large one)."""
    limits = DrainLimits()
    template = services.aws.template
    memory = template.properties("DrainFunction").get("MemorySize")
    if isinstance(memory, dict):  # {"Ref": "DrainMemorySize"}: the parameter's default
        memory = template.names[memory["Ref"]]
    inputs = catchup.DrainInputs(
        cpu_per_object=_per_object(one, lambda run: run.cpu["drain"]),
        line_bytes=statistics.mean(len(body) for body in backlog.values()),
        get_latency=catchup.ASSUMED_GET_LATENCY,
        memory_mb=int(memory or template.names["FunctionMemorySize"]),
        readers=limits.readers,
        workers=min(limits.concurrency, len(Signal) * SHARDS),
        rate=limits.rate,
        batch_lines=limits.batch_lines,
        batch_bytes=limits.batch_bytes,
        dynamodb_write_units=_per_object(one, lambda run: run.put_item_bytes) / 1024,
    )
    return replace(
        inputs,
        s3_gets=1.0,
        s3_lists=1 / LIST_PAGE,  # a page of keys per request
        s3_deletes=1 / inputs.lines_per_request,  # a DeleteObjects per replayed batch
    )


def inputs_json(inputs: catchup.DrainInputs) -> dict[str, Any]:
    """The model's inputs, times in milliseconds (bench-results.json keeps 3 decimals)."""
    fields = asdict(inputs)
    fields["cpu_ms_per_object"] = fields.pop("cpu_per_object") * 1e3
    fields["get_latency_ms"] = fields.pop("get_latency") * 1e3
    return fields


def catch_up_report(inputs: catchup.DrainInputs) -> list[dict[str, Any]]:
    rows = [catchup.catch_up(inputs, rate) for rate in catchup.EXPORT_RATES]
    per_worker, bound = inputs.per_worker()
    by_rate = inputs.rate * inputs.lines_per_request
    say(
        f"  catch-up on AWS ({inputs.memory_mb} MB = {inputs.vcpu:.2f} vCPU, S3 GET "
        f"{inputs.get_latency * 1e3:g} ms assumed, {inputs.workers} workers x {inputs.readers} "
        f"readers): {per_worker:.0f} objects/s per worker ({bound}); DrainRate allows "
        f"{inputs.rate:g} x {inputs.lines_per_request} = {by_rate:,.0f}"
    )
    for line in catchup.table(rows):
        say("    " + line)
    # The lever: a worker bound by CPU goes faster with more memory, for about the same GB-s.
    one_vcpu = replace(inputs, memory_mb=catchup.MB_PER_VCPU)
    faster = [catchup.catch_up(one_vcpu, rate) for rate in catchup.EXPORT_RATES]
    per_worker, bound = one_vcpu.per_worker()
    say(
        f"  at {catchup.MB_PER_VCPU} MB: {per_worker:.0f} objects/s per worker ({bound}); "
        + ", ".join(f"{row.hours:.1f} h (${row.total_usd:.2f})" for row in faster)
    )
    return [asdict(row) | {"total_usd": row.total_usd} for row in rows]
