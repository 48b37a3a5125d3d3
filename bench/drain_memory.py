"""Peak memory of one drain worker replaying a backlog of the largest exports the ingest keeps.

Each object holds one export at the decompressed cap (``MAX_DECOMPRESSED_BYTES`` of
protobuf, as close as the bench's generator gets), written as the ingest's backup writer
writes it (``backup.writer.object_chunks``: one complete export request per line, cut at
``LINE_BYTES`` of protobuf), one export per object. The bucket is seeded from this
process; moto runs in its own. The worker is a fresh process (``bench.drain_rss_child``)
that cold-starts the drain function and handles one worker event for every unit (signal,
shard) of the backlog, so it drains them all; its peak RSS is the figure. A second fresh
process replays one line step by step (read, JSON parse, message, merge, serialize, gzip)
and reports each step's own peak, which says what dominates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import say
from bench.payloads import MIB, export_request
from bench.services import REPO, Services
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.writer import object_chunks
from otlp_failover.settings.environment import BACKUP_BUCKET, DEFAULT_MAX_DECOMPRESSED_BYTES
from otlp_failover.signals import Signal

CAP = DEFAULT_MAX_DECOMPRESSED_BYTES
OBJECTS, QUICK_OBJECTS = 42, 3  # the three signals in turn
# The generator stops at the first item past its target: aim this far below the cap.
_MARGIN = 64 * 1024
NEWLINE = b"\n"
_STEPS_KEY = "bench-steps/line.jsonl"  # outside the backup prefix: the worker never sees it
_START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def cap_lines() -> dict[Signal, tuple[int, bytes]]:
    """Per signal: the protobuf size of an export at the cap, and its backup object."""
    lines = {}
    for signal in Signal:
        request = export_request(signal, CAP - _MARGIN)
        lines[signal] = (request.ByteSize(), b"".join(object_chunks(signal, request)))
    return lines


def _seed(services: Services, bucket: str, objects: int, lines: dict[Signal, bytes]) -> list[Any]:
    """Writes the backlog; returns the units (signal, shard) it fills."""
    layout, signals = BackupLayout("backup"), list(Signal)
    keys: dict[str, Signal] = {}
    for number in range(objects):
        signal = signals[number % len(signals)]
        shard = f"s{(number // len(signals)) % layout.shards:02d}"
        moment = _START + timedelta(seconds=number)
        keys[layout.new_key(signal, moment, unique=f"{number:06d}", shard=shard)] = signal
    s3 = services.aws.s3()

    def put(key: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=lines[keys[key]])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, keys))
    return sorted({(signal.value, key.split("/")[2]) for key, signal in keys.items()})


def _child(args: list[str], env: dict[str, str], result: Path) -> dict[str, Any]:
    subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "bench.drain_rss_child", *args, str(result)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # the function's EMF and JSON logs
        check=True,
        timeout=1800,
    )
    answer: dict[str, Any] = json.loads(result.read_text())
    return answer


def _check_drained(services: Services, bucket: str, reply: dict[str, Any], objects: int) -> None:
    drained = sum(unit["objects"] for unit in reply["drained"].values())
    left = services.aws.s3().list_objects_v2(Bucket=bucket, Prefix="backup/").get("KeyCount")
    if drained != objects or reply["stopped"] or left:
        raise RuntimeError(f"the worker drained {drained}/{objects} objects: {reply}")


def peak_rss_mib(services: Services, quick: bool) -> tuple[float, list[dict[str, Any]]]:
    """The worker's peak RSS in MiB, and the steps of one line with their peaks."""
    objects = QUICK_OBJECTS if quick else OBJECTS
    generated = cap_lines()
    lines = {signal: line for signal, (_, line) in generated.items()}
    for signal, (size, line) in generated.items():
        say(
            f"  {signal.value:7} export {size:,} B of protobuf ({size / CAP:.1%} of the "
            f"{CAP / MIB:.0f} MiB cap): an object of {len(line):,} B in "
            f"{line.count(NEWLINE)} OTLP/JSON lines"
        )
    env = services.environment(primary=services.sink.url)
    bucket = env[BACKUP_BUCKET]
    units = _seed(services, bucket, objects, lines)
    largest = max(lines, key=lambda signal: len(lines[signal]))
    services.aws.s3().put_object(Bucket=bucket, Key=_STEPS_KEY, Body=lines[largest])
    with tempfile.TemporaryDirectory(prefix="bench-drain-rss-") as workdir:
        event = Path(workdir, "event.json")
        event.write_text(json.dumps({"units": units, "reason": "bench"}))
        worker = _child(["worker", str(event)], env, Path(workdir, "worker.json"))
        _check_drained(services, bucket, worker["reply"], objects)
        steps = _child(["steps", largest.value, _STEPS_KEY], env, Path(workdir, "steps.json"))
    peak = worker["peak_kib"] / 1024
    say(
        f"  one worker, {objects} objects over {len(units)} units in {worker['s']:.0f} s: "
        f"peak {peak:.0f} MiB (after cold start {worker['cold_kib'] / 1024:.0f} MiB)"
    )
    say(f"  one {largest.value} line ({steps['line_bytes']:,} B), step by step:")
    for step in steps["steps"]:
        say(
            f"    {step['step']:44} peak {step['peak_mib']:5.0f} MiB: "
            f"+{step['peak_above_before_mib']:.0f} over the {step['rss_before_mib']:.0f} before "
            f"it, {step['held_after_mib']:+.0f} held after; {step['s']:.1f} s"
        )
    return peak, steps["steps"]


def record(results: dict[str, Any], services: Services | None, quick: bool) -> None:
    """The ``drain_memory`` stage of ``python -m bench``: the peak, and the steps of a line."""
    assert services is not None
    results["peak_rss_mib_drain_large_backlog"], results["drain_memory_steps"] = peak_rss_mib(
        services, quick
    )
