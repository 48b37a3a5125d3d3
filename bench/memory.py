"""Peak memory of one ingest process handling a 4 MiB export that fails over to S3.

Each run is a fresh process (``bench.rss_child``) with a primary that refuses
connections, so the export goes down to the S3 level: protobuf parsed, converted to an
OTLP/JSON line, written with PutObject. moto runs in another process and does not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.forward import export_event
from bench.measure import say
from bench.payloads import export_bytes
from bench.services import REPO, Services, refusing_url
from otlp_failover.settings.environment import BACKUP_BUCKET
from otlp_failover.signals import Signal


def _one(services: Services, signal: Signal, workdir: Path) -> dict[str, float]:
    body = export_bytes(signal, "4MiB")
    event_file, result_file = workdir / "event.json", workdir / "result.json"
    event_file.write_text(json.dumps(export_event(signal, body)))
    env = services.environment(primary=refusing_url())
    subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "bench.rss_child", str(event_file), str(result_file)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # the function's EMF and JSON logs
        check=True,
        timeout=120,
    )
    result: dict[str, float] = json.loads(result_file.read_text())
    stored = services.aws.s3().list_objects_v2(Bucket=env[BACKUP_BUCKET])
    if result["status"] != 200 or stored.get("KeyCount") != 1:
        raise RuntimeError(f"the 4 MiB {signal} export did not fail over to S3: {result}")
    say(
        f"  {signal.value:7} ({len(body):,} B): peak {result['peak_kib'] / 1024:.0f} MiB "
        f"(after cold start {result['cold_kib'] / 1024:.0f} MiB), handled in {result['s']:.2f} s"
    )
    return result


def peak_rss_mib(services: Services) -> float:
    """The largest peak over the three signals, in MiB."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as workdir:
        peaks = [_one(services, signal, Path(workdir))["peak_kib"] for signal in Signal]
    return max(peaks) / 1024
