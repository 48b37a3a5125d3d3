"""Peak memory of one ingest process failing over the largest export it accepts.

Each run is a fresh process (``bench.rss_child``) with a primary that refuses
connections, so the export goes down to the S3 level: gunzipped, parsed, streamed as one
OTLP/JSON line into a multipart upload. moto runs in another process and does not count.

The export is as close to the decompressed cap (20 MiB, ``MAX_DECOMPRESSED_BYTES``) as
API Gateway lets one through: gzip on the wire, as SDKs send it; base64 in the event, as
API Gateway delivers it; the body under ``MAX_BODY_BYTES`` as sent and the event under
Lambda's 6 MB. Where the bench's payloads of a signal compress too little for the cap to
fit in that, the largest export that fits is used, and the progress line says so.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.forward import client_headers
from bench.measure import say
from bench.payloads import MIB, export_request
from bench.services import REPO, Services, refusing_url
from otlp_failover.settings.environment import (
    BACKUP_BUCKET,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
)
from otlp_failover.signals import Signal
from otlp_failover_dev.local._payload import build_event
from otlp_failover_dev.local.apigw import MAX_EVENT_BYTES

CAP = DEFAULT_MAX_DECOMPRESSED_BYTES
# The generator stops at the first item past its target: aim this far below the cap.
_MARGIN = 64 * 1024


@dataclass(frozen=True)
class Export:
    protobuf: int  # bytes once decompressed
    body: bytes  # gzipped, as sent
    event: str  # the Lambda event, as the runtime client hands it over

    def over(self) -> float:
        """How far over its tightest limit this export is (1.0 and below: it fits)."""
        return max(
            self.protobuf / CAP,
            len(self.body) / DEFAULT_MAX_BODY_BYTES,
            len(self.event) / MAX_EVENT_BYTES,
        )


def _export(signal: Signal, target: int) -> Export:
    raw = bytes(export_request(signal, target).SerializeToString())
    body = gzip.compress(raw)
    headers = [*client_headers(), ("content-encoding", "gzip")]
    event = json.dumps(build_event("POST", signal.path, headers, body))
    return Export(len(raw), body, event)


def largest_export(signal: Signal) -> tuple[Export, Export | None]:
    """The largest export of ``signal`` that fits, and the one at the cap if that did not."""
    target = CAP - _MARGIN
    at_cap = export = _export(signal, target)
    while export.over() > 1.0:
        target = int(target * min(0.98, 0.99 / export.over()))
        export = _export(signal, target)
    return export, (None if export is at_cap else at_cap)


def _one(services: Services, signal: Signal, workdir: Path) -> dict[str, Any]:
    export, at_cap = largest_export(signal)
    if at_cap is not None:
        say(
            f"  {signal.value:7} at the cap ({at_cap.protobuf:,} B) its gzip body is "
            f"{len(at_cap.body):,} B and its event {len(at_cap.event):,} B: over the "
            f"{DEFAULT_MAX_BODY_BYTES:,} B body or {MAX_EVENT_BYTES:,} B event limit, "
            "so the largest that fits is used"
        )
    event_file, result_file = workdir / "event.json", workdir / "result.json"
    event_file.write_text(export.event)
    env = services.environment(primary=refusing_url())
    child = subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "bench.rss_child", str(event_file), str(result_file)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # the function's EMF and JSON logs
        stderr=subprocess.PIPE,  # its warnings (the primary refused): shown only on failure
        text=True,
        check=False,
        timeout=300,
    )
    if child.returncode != 0:
        tail = child.stderr[-2000:]
        raise RuntimeError(f"bench.rss_child exited with {child.returncode}: {tail}")
    result: dict[str, Any] = json.loads(result_file.read_text())
    stored = services.aws.s3().list_objects_v2(Bucket=env[BACKUP_BUCKET]).get("Contents", [])
    if result["status"] != 200 or len(stored) != 1:
        raise RuntimeError(f"the {signal} export did not fail over to S3: {result}")
    say(
        f"  {signal.value:7} {export.protobuf:,} B protobuf ({export.protobuf / CAP:.0%} of the "
        f"{CAP / MIB:.0f} MiB cap), gzip {len(export.body):,} B, event {len(export.event):,} B, "
        f"line {stored[0]['Size']:,} B: peak {result['peak_kib'] / 1024:.0f} MiB "
        f"(after cold start {result['cold_kib'] / 1024:.0f} MiB), handled in {result['s']:.2f} s"
    )
    return result


def peak_rss_mib(services: Services) -> float:
    """The largest peak over the three signals, in MiB."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as workdir:
        peaks = [_one(services, signal, Path(workdir))["peak_kib"] for signal in Signal]
    return max(peaks) / 1024
