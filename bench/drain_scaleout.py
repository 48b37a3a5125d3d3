"""Drain scale-out: one backlog drained by one worker and by the default worker count.

The backlog is what an outage leaves: ~1 KiB exports of the three signals, one per object
as the ingest writes them, dealt round the shards. S3 is moto behind a latency proxy that
adds ``LATENCY_MS`` to every request (``bench/latency_proxy.py``), so the reads wait as
they do on AWS; DrainRate is set far above what is reached, so the backend's rate is not
what is measured; the backend is the bench's sink. The workers are those of
``DrainJob.run``: threads of this process, as the local stack and ``otlp-failover drain``
run them (on Lambda each worker is an invocation of its own).

The two sides alternate, each run on a fresh bucket seeded with the same objects, the
side going first swapping every round; the figure is the ratio of the median speeds.
Every run is timed per operation (``bench/timed.py``) and the CPU of the drain, moto and
the proxy is counted apart, so the progress lines say where one worker's time goes and
whether the machine's CPUs, not the workers, are the limit (``bench/drain_profile.py``).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bench.drain_profile import (
    CHECKPOINT,
    DELETE,
    GET,
    LEASE,
    LIST,
    POST,
    STATE,
    DrainRun,
    catch_up_report,
    inputs_json,
    model_inputs,
    where_one_worker_spends,
)
from bench.measure import ApiCalls, say
from bench.payloads import SIZES, export_request
from bench.services import Child, Services, aws_clients, start_child
from bench.timed import OpStats, Timed
from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.codec import encode_json
from otlp_failover.failover.levels import Level
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import (
    BACKUP_BUCKET,
    DRAIN_CONCURRENCY,
    DRAIN_RATE,
    DrainLimits,
    Settings,
)
from otlp_failover.signals import Signal

LATENCY_MS = 15.0
OBJECTS, QUICK_OBJECTS = 4000, 600
ROUNDS, QUICK_ROUNDS = 2, 1  # a round runs both sides
FAST_RATE = 1e6  # requests/s: far above what the workers reach
SHARDS = BackupLayout().shards
_START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def sharded_backlog(objects: int, shards: int = SHARDS) -> dict[str, bytes]:
    """Backup key -> object body: the three signals in turn, dealt round the shards."""
    layout, backlog = BackupLayout("backup", shards), {}
    signals = list(Signal)
    for number in range(objects):
        signal = signals[number % len(signals)]
        shard = f"s{(number // len(signals)) % shards:02d}"
        line = encode_json(export_request(signal, SIZES["1KiB"], seed=5000 + number))
        key = layout.new_key(
            signal, _START + timedelta(milliseconds=number), unique=f"{number:06d}", shard=shard
        )
        backlog[key] = line + b"\n"
    return backlog


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _s3_through(url: str) -> Iterator[None]:
    """boto3 clients built inside reach S3 at ``url`` (its service-specific endpoint)."""
    before = os.environ.get("AWS_ENDPOINT_URL_S3")
    os.environ["AWS_ENDPOINT_URL_S3"] = url
    try:
        yield
    finally:
        if before is None:
            del os.environ["AWS_ENDPOINT_URL_S3"]
        else:
            os.environ["AWS_ENDPOINT_URL_S3"] = before


class _PutItemBytes:
    """Request bytes of the DynamoDB PutItem calls (leases and checkpoints): a little over
    the items' size, which is what DynamoDB bills (a write unit per KB)."""

    def __init__(self, client: Any) -> None:
        self.bytes = 0
        client.meta.events.register("before-call.dynamodb.PutItem", self._count)

    def _count(self, params: Any = None, **_: Any) -> None:
        self.bytes += len((params or {}).get("body") or b"")


def _seed(services: Services, bucket: str, backlog: dict[str, bytes]) -> None:
    s3 = services.aws.s3()  # straight to moto: seeding is not what is measured

    def put(key: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=backlog[key])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, backlog))


def _timed_job(runtime: Runtime, ops: OpStats) -> Any:
    """The drain job as the drain function builds it, each port timed."""
    assert runtime.backup is not None
    runtime.backup.store = Timed(
        runtime.backup.store, ops, {"get": GET, "list": LIST, "delete": DELETE}
    )
    runtime.store = Timed(runtime.store, ops, {"read": STATE})
    store = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    timed_store = Timed(
        store, ops, {"acquire": LEASE, "release": LEASE, "load": CHECKPOINT, "save": CHECKPOINT}
    )
    # Each level stands in for itself: the wrapper passes every attribute through.
    levels = [cast(Level, Timed(level, ops, {"export": POST})) for level in runtime.levels]
    return runtime.drain_job(leases=timed_store, checkpoints=timed_store, levels=levels)


def drain_once(
    services: Services, proxy: Child, backlog: dict[str, bytes], workers: int
) -> DrainRun:
    env = {
        **services.environment(primary=services.sink.url),
        DRAIN_RATE: str(FAST_RATE),
        DRAIN_CONCURRENCY: str(workers),
    }
    _seed(services, env[BACKUP_BUCKET], backlog)
    with _s3_through(proxy.url):
        runtime = Runtime.build(Settings.from_environment(env))
    ops = OpStats()
    job = _timed_job(runtime, ops)
    requests = ApiCalls(aws_clients(runtime))
    put_items = _PutItemBytes(runtime.aws.dynamodb)
    before = (
        _own_cpu_seconds(),
        process_cpu_seconds(services.aws_pid),
        process_cpu_seconds(proxy.process.pid),
    )
    started = time.perf_counter()
    report = job.run(900.0)
    seconds = time.perf_counter() - started
    after = (
        _own_cpu_seconds(),
        process_cpu_seconds(services.aws_pid),
        process_cpu_seconds(proxy.process.pid),
    )
    drained = sum(tally.lines for tally in report.tallies)
    stopped = [f"{tally.unit}: {tally.stopped}" for tally in report.tallies if tally.stopped]
    left = services.aws.s3().list_objects_v2(Bucket=env[BACKUP_BUCKET], Prefix="backup/")
    if drained != len(backlog) or stopped or report.left or left.get("KeyCount"):
        raise RuntimeError(
            f"{workers} worker(s) drained {drained}/{len(backlog)} lines "
            f"({stopped or report.left or 'objects left in the bucket'})"
        )
    cpu = {
        name: a - b for name, a, b in zip(("drain", "moto", "proxy"), after, before, strict=True)
    }
    run = DrainRun(
        workers=workers,
        readers=runtime.settings.drain.readers,
        objects=len(backlog),
        seconds=seconds,
        cpu=cpu,
        ops=ops,
        requests=Counter(requests.calls),
        put_item_bytes=put_items.bytes,
    )
    say(
        f"  {workers} worker{'s' if workers > 1 else ' '}: {run.objects} objects in "
        f"{seconds:5.1f} s = {run.per_second:4.0f} lines/s; CPU per object "
        + ", ".join(f"{name} {run.ms_per_object(value):.2f} ms" for name, value in cpu.items())
    )
    return run


def drain_scaleout(services: Services, quick: bool) -> tuple[float, dict[str, Any]]:
    """The scale-out ratio, and the drain's cost inputs (with the catch-up model)."""
    objects, rounds = (QUICK_OBJECTS, QUICK_ROUNDS) if quick else (OBJECTS, ROUNDS)
    backlog = sharded_backlog(objects)
    many = DrainLimits().concurrency
    proxy = start_child("bench.latency_proxy", services.aws.endpoint_url, str(LATENCY_MS))
    runs: dict[int, list[DrainRun]] = {1: [], many: []}
    try:
        for number in range(rounds):
            for workers in (1, many) if number % 2 == 0 else (many, 1):
                runs[workers].append(drain_once(services, proxy, backlog, workers))
    finally:
        proxy.stop()
    speed = {
        workers: statistics.median(r.per_second for r in done) for workers, done in runs.items()
    }
    ratio = speed[many] / speed[1]
    cpu = {
        name: statistics.median(run.cpu[name] / run.objects for run in runs[1]) * 1e3
        for name in ("drain", "moto", "proxy")
    }
    all_cpu = sum(cpu.values())
    cores = os.cpu_count() or 1
    say(
        f"  -> x{ratio:.2f}: {many} workers {speed[many]:.0f} lines/s / 1 worker {speed[1]:.0f} "
        f"lines/s (medians of {rounds}; {objects} objects over {len(Signal)} signals x {SHARDS} "
        f"shards; S3 +{LATENCY_MS:g} ms per request)"
    )
    say(
        f"  this machine: {cores} CPUs; per object {cpu['drain']:.1f} ms of CPU in the drain, "
        f"{cpu['moto']:.1f} in moto, {cpu['proxy']:.1f} in the proxy: at most "
        f"{cores / all_cpu * 1e3:.0f} objects/s on its CPUs, and moto (one process, one GIL) at "
        f"most {1e3 / cpu['moto']:.0f}, whatever the number of workers"
    )
    parts = where_one_worker_spends(runs[1][-1], LATENCY_MS)
    inputs = model_inputs(services, runs[1], backlog)
    costs = {
        "backlog_objects": objects,
        "line_bytes_mean": round(inputs.line_bytes),
        "latency_added_ms": LATENCY_MS,
        "lines_per_second": {str(workers): round(value, 1) for workers, value in speed.items()},
        "cpu_ms_per_object": {name: round(value, 3) for name, value in cpu.items()},
        "drain_cpu_ms_per_object_parts": parts,
        "requests_per_object": {
            op: round(statistics.median(run.requests[op] / run.objects for run in runs[1]), 4)
            for op in sorted(runs[1][-1].requests)
        },
        "catch_up_inputs": inputs_json(inputs),
        "catch_up": catch_up_report(inputs),
    }
    return ratio, costs


def record(results: dict[str, Any], services: Services | None, quick: bool) -> None:
    """The ``drain_scaleout`` stage of ``python -m bench``: the ratio and the cost inputs."""
    assert services is not None
    results["drain_scaleout_ratio"], costs = drain_scaleout(services, quick)
    results.setdefault("cost_inputs", {})["drain"] = costs
