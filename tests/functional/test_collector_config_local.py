"""``otlp-failover local --collector-config FILE``: the README's collector configuration,
its endpoints pointed at two local backends that demand the headers it names, run as a
user runs it. The header values come from the environment into the emulator's Secrets
Manager, and traffic walks the file's levels, primary -> secondary -> S3, as they fail."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.signals import Signal
from otlp_failover_dev.commands.target import STATE_FILE_ENV
from otlp_failover_dev.items import deliveries
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.test_local_stack import read_banner
from tests.unit.collector_config.collector_samples import API_TOKEN, BACKUP_TOKEN, ENV, SAMPLE

TOKEN = "t0ken-collector"
PRIMARY, SECONDARY = "otlphttp/primary", "otlphttp/secondary"


def collector_file(tmp_path: Path, primary: OtlpBackend, secondary: OtlpBackend) -> Path:
    """The README's file with local endpoints and short failure paths: two failures move a
    level, each failed export gives up after 100 ms of retries, probes every 2 s."""
    document: dict[str, Any] = yaml.safe_load(SAMPLE)
    document["connectors"]["failover"].update(
        {"max_retries": 2, "retry_interval": "2s", "retry_gap": "200ms"}
    )
    exporters = document["exporters"]
    for name, backend in ((PRIMARY, primary), (SECONDARY, secondary)):
        exporters[name].update(
            {
                "endpoint": backend.url,
                "timeout": "1s",
                "retry_on_failure": {"max_elapsed_time": "100ms"},
            }
        )
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@contextmanager
def local_stack(config: Path, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """``otlp-failover local --collector-config`` in its own process: (banner, API URL,
    stderr file); stopped with SIGTERM. The environment is the user's shell: the two
    tokens, and nothing of this process's AWS settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(
        {
            **ENV,
            "PYTHONUNBUFFERED": "1",
            STATE_FILE_ENV: str(tmp_path / "local.json"),
            "STATE_CACHE_TTL": "0.2",  # how long an ingest instance keeps a level it read
        }
    )
    command = [sys.executable, "-m", "otlp_failover_dev.cli", "local", "--collector-config"]
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [*command, str(config), "--port", "0", "--aws-port", "0", "--token", TOKEN],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=environment,
        )
        assert process.stdout is not None
        try:
            banner = read_banner(process.stdout)
            api = re.search(r"OTEL_EXPORTER_OTLP_ENDPOINT=(\S+)", banner)
            assert api, banner + stderr.read_text()
            yield banner, api[1], stderr
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
            rest = process.stdout.read()
    assert API_TOKEN not in banner + rest and BACKUP_TOKEN not in banner + rest


def span_request(name: str) -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.name = name
    span.trace_id, span.span_id = secrets.token_bytes(16), secrets.token_bytes(8)
    body: bytes = request.SerializeToString()
    return body


def status(api: str) -> dict[str, Any]:
    reply = requests.get(api + "/status", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def send_until(api: str, sent: list[str], reached: Callable[[], bool], limit: int = 8) -> None:
    """Export spans, each acknowledged, until ``reached()``; at most ``limit``."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-protobuf"}
    for _ in range(limit):
        name = f"collector-span-{len(sent):02d}"
        reply = requests.post(
            api + "/v1/traces", data=span_request(name), headers=headers, timeout=30
        )
        assert reply.status_code == 200, reply.text
        sent.append(name)
        if reached():
            return
    raise AssertionError(f"not reached after {limit} exports: {status(api)}")


def test_the_collectors_levels_run_locally_with_headers_from_the_environment(
    tmp_path: Path, backend_factory: Callable[..., OtlpBackend]
) -> None:
    primary, secondary = backend_factory(), backend_factory()
    primary.require_headers({"x-api-token": API_TOKEN})
    secondary.require_headers({"x-backup-token": BACKUP_TOKEN})
    config = collector_file(tmp_path, primary, secondary)
    sent: list[str] = []

    with local_stack(config, tmp_path) as (banner, api, stderr):

        def traces_level() -> int:
            level: int = status(api)["signals"]["traces"]["level"]
            return level

        send_until(api, sent, lambda: bool(deliveries(primary.exports, Signal.TRACES)))
        primary.set_mode("refuse")
        send_until(api, sent, lambda: traces_level() == 1)
        send_until(api, sent, lambda: bool(deliveries(secondary.exports, Signal.TRACES)))
        secondary.set_mode("refuse")
        send_until(api, sent, lambda: traces_level() == 2)
        backlog = status(api)["backlog"]["traces"]["objects"]
        logs = stderr.read_text()

    assert re.search(rf"levels\s+0\s+{PRIMARY}\s+{primary.url}\n", banner), banner
    assert re.search(rf"\n\s+1\s+{SECONDARY}\s+{secondary.url}\n", banner), banner
    assert re.search(r"\n\s+2\s+s3/emergency\s+s3://otlp-failover-backup/backup\n", banner)
    assert re.search(rf"headers\s+{PRIMARY}: x-api-token  \(secret arn:aws:secretsmanager:", banner)
    assert "failover       max_retries=2 retry_interval=2s retry_gap=200ms" in banner
    assert (primary.unauthorized, secondary.unauthorized) == (0, 0)
    assert {e.headers["x-api-token"] for e in primary.exports} == {API_TOKEN}
    assert {e.headers["x-backup-token"] for e in secondary.exports} == {BACKUP_TOKEN}
    delivered = deliveries(primary.exports, Signal.TRACES) + deliveries(
        secondary.exports, Signal.TRACES
    )
    assert len(set(delivered)) + backlog >= len(sent)  # each acknowledged span is somewhere
    assert backlog >= 1
    assert API_TOKEN not in logs and BACKUP_TOKEN not in logs
