"""Replaying a backlog: the project's drain against the classic curl-per-line script.

Both replay the same lines (realistic ~1 KiB exports of the three signals, one export per
object as the ingest function writes them) into the same sink. The drain reads them from
the emulated S3 bucket, as it does in Lambda, with the DrainLimits the drain function
builds from its settings (default rate 20 requests/s, 200 lines per request); the script
reads local copies, which spares it the S3 reads, and moves each file when done.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.measure import ApiCalls, median, say
from bench.payloads import SIZES, export_request
from bench.services import REPO, Services, aws_clients
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.codec import encode_json
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import BACKUP_BUCKET, DrainLimits, Settings
from otlp_failover.signals import Signal

SCRIPT = REPO / "bench" / "replay.sh"
BACKLOG_LINES = 2100
QUICK_LINES = 300
_START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def backlog(lines: int) -> dict[str, bytes]:
    """Backup key -> object body, oldest first, the three signals in turn."""
    layout, objects = BackupLayout("backup"), {}
    signals = list(Signal)
    for number in range(lines):
        signal = signals[number % len(signals)]
        line = encode_json(export_request(signal, SIZES["1KiB"], seed=1000 + number))
        key = layout.new_key(signal, _START + timedelta(seconds=number), unique=f"{number:06d}")
        objects[key] = line + b"\n"
    return objects


def _seed_bucket(services: Services, bucket: str, objects: dict[str, bytes]) -> None:
    s3 = services.aws.s3()

    def put(key: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=objects[key])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, objects))


def _seed_directory(directory: Path, objects: dict[str, bytes]) -> None:
    for key, body in objects.items():
        path = directory / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def _time_drain(services: Services, objects: dict[str, bytes], lines: int) -> float:
    env = services.environment(primary=services.sink.url)
    runtime = Runtime.build(Settings.from_environment(env))
    _seed_bucket(services, env[BACKUP_BUCKET], objects)
    calls = ApiCalls(aws_clients(runtime))
    job = runtime.drain_job()
    cpu_before, started = _cpu_seconds(), time.perf_counter()
    report = job.run(600.0)
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before
    drained = sum(tally.lines for tally in report.tallies)
    stopped = [tally.stopped for tally in report.tallies if tally.stopped]
    left = services.aws.s3().list_objects_v2(Bucket=env[BACKUP_BUCKET], Prefix="backup/")
    if drained != lines or stopped or left.get("KeyCount"):
        raise RuntimeError(f"the drain replayed {drained}/{lines} lines ({stopped or 'no stop'})")
    requests = sum(tally.requests for tally in report.tallies)
    say(
        f"  drain:  {elapsed:6.2f} s for {lines} lines in {requests} requests, "
        f"{cpu / lines * 1e3:.2f} ms CPU per line in this process; AWS calls "
        f"{dict(calls.calls)}, {calls.seconds:.1f} s in them (summed over reader threads)"
    )
    return elapsed


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_script(services: Services, objects: dict[str, bytes], lines: int) -> float:
    directory = Path(tempfile.mkdtemp(prefix="bench-backlog-"))
    try:
        _seed_directory(directory, objects)
        before = services.sink_stats()["requests"]
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own script, our own arguments
            ["bash", str(SCRIPT), str(directory), services.sink.url],  # noqa: S607
            check=True,
            timeout=900,
        )
        elapsed = time.perf_counter() - started
        posted = services.sink_stats()["requests"] - before
        if posted != lines or any((directory / "backup").rglob("*.jsonl")):
            raise RuntimeError(f"the script replayed {posted}/{lines} lines")
    finally:
        shutil.rmtree(directory)
    say(f"  script: {elapsed:6.2f} s for {lines} lines in {lines} requests")
    return elapsed


def packed(objects: dict[str, bytes], lines_per_object: int) -> dict[str, bytes]:
    """The same lines, ``lines_per_object`` to an object per signal (the first key names it)."""
    by_signal: dict[str, list[tuple[str, bytes]]] = {}
    for key, body in objects.items():
        by_signal.setdefault(key.split("/")[1], []).append((key, body))
    merged: dict[str, bytes] = {}
    for entries in by_signal.values():
        for start in range(0, len(entries), lines_per_object):
            chunk = entries[start : start + lines_per_object]
            merged[chunk[0][0]] = b"".join(body for _, body in chunk)
    return dict(sorted(merged.items()))


def drain_speedup(services: Services, quick: bool) -> float:
    """Script time ÷ median drain time; the drains run before and after the script."""
    lines = QUICK_LINES if quick else BACKLOG_LINES
    objects = backlog(lines)
    drains = [_time_drain(services, objects, lines)]
    script = _time_script(services, objects, lines)
    if not quick:
        drains.append(_time_drain(services, objects, lines))
    speedup = script / median(drains)
    say(
        f"  -> x{speedup:.1f} (DrainLimits as the drain function builds them, the defaults: "
        f"{DrainLimits().rate:g} requests/s, {DrainLimits().batch_lines} lines per request)"
    )
    # Not a goal figure: how much of the drain's time is one GetObject per line.
    packed_time = _time_drain(services, packed(objects, 100), lines)
    say(
        f"  for reference, the same lines packed 100 to an object: x{script / packed_time:.1f} "
        "against the script's time on one-line files"
    )
    return speedup
