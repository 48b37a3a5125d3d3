"""The local stack: start order, the handlers' environment, schedules, and the CLI around it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otlp_failover.settings import environment as settings
from otlp_failover_dev.cli import banner
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig, Scheduler

# A function directory like functions/ingest: its handler reports what its cold start saw.
APP = """
import os

COLD_START_ENV = dict(os.environ)


def lambda_handler(event, context):
    import json
    keys = ["STATE_TABLE", "BACKUP_BUCKET", "PRIMARY_ENDPOINT", "INGEST_TOKEN_SECRET",
            "MAX_RETRIES", "RETRY_INTERVAL", "RETRY_GAP", "AWS_ENDPOINT_URL"]
    return {"statusCode": 200, "body": json.dumps({k: COLD_START_ENV.get(k) for k in keys})}
"""


def config(**overrides: Any) -> LocalStackConfig:
    name = uuid.uuid4().hex[:12]  # moto keeps one state per process: fresh names per stack
    values: dict[str, Any] = {
        "port": 0,
        "aws_port": 0,
        "table_name": f"state-{name}",
        "bucket_name": f"backup-{name}",
        "token_secret_name": f"token-{name}",
        "token": "t0ken",
        **overrides,
    }
    return LocalStackConfig(**values)


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "app.py").write_text(APP)
    return tmp_path


def test_loads_the_handler_by_path_after_setting_its_environment(
    functions_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.FAILOVER_CONFIG, "{}")  # would override the flags if kept
    stack = LocalStack(
        config(functions_dir=functions_dir, retry_interval=2.0, retry_gap=1.0, max_retries=5)
    )
    with stack:
        seen = requests.get(stack.api_url + "/anything").json()
        assert os.environ.get(settings.FAILOVER_CONFIG) is None

    assert seen["STATE_TABLE"] == stack.config.table_name
    assert seen["BACKUP_BUCKET"] == stack.config.bucket_name
    assert seen["INGEST_TOKEN_SECRET"].startswith("arn:aws:secretsmanager:")
    assert (seen["MAX_RETRIES"], seen["RETRY_INTERVAL"], seen["RETRY_GAP"]) == ("5", "2.0s", "1.0s")
    assert seen["PRIMARY_ENDPOINT"].startswith("http://127.0.0.1:")
    assert seen["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert os.environ[settings.FAILOVER_CONFIG] == "{}"  # the caller's environment is back


def test_creates_the_resources_and_runs_the_demo_primary(aws: AwsEmulator) -> None:
    handled: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        handled.append(event)
        return {"statusCode": 204}

    stack = LocalStack(config(), handler_factory=lambda: handler)
    with stack:
        assert requests.post(stack.api_url + "/v1/traces", data=b"").status_code == 204
        assert stack.primary is not None
        assert requests.get(stack.primary.control_url).ok
        # moto's state is per process: ask for this stack's table by name (a listing pages
        # at 100 tables, and the tier creates more than that).
        table = aws.dynamodb().describe_table(TableName=stack.config.table_name)["Table"]
        secret = aws.secretsmanager().get_secret_value(SecretId=stack.token_secret_arn)

    assert table["TableStatus"] == "ACTIVE"
    assert secret["SecretString"] == '{"tokens": ["t0ken"]}'
    assert handled[0]["rawPath"] == "/v1/traces"


def test_a_given_primary_replaces_the_demo_one() -> None:
    stack = LocalStack(
        config(primary="http://127.0.0.1:9"),
        handler_factory=lambda: lambda e, c: {"statusCode": 200},
    )
    with stack:
        assert stack.primary is None
        assert stack.handler_environment()[settings.PRIMARY_ENDPOINT] == "http://127.0.0.1:9"


def test_scheduler_runs_jobs_until_stopped_and_survives_their_errors() -> None:
    calls: list[str] = []

    def failing() -> None:
        calls.append("fail")
        raise RuntimeError("probe failed")

    scheduler = Scheduler()
    scheduler.every(0.05, lambda: calls.append("ok"), "probe")
    scheduler.start()
    scheduler.every(0.05, failing, "drain")
    time.sleep(0.4)
    scheduler.stop()
    count = len(calls)
    time.sleep(0.15)

    assert calls.count("ok") >= 3
    assert calls.count("fail") >= 3
    assert len(calls) == count


def test_a_failed_start_stops_what_had_started() -> None:
    with socket_in_use() as port:
        stack = LocalStack(
            config(port=port), handler_factory=lambda: lambda e, c: {"statusCode": 200}
        )
        with pytest.raises(OSError):
            stack.start()

    assert (stack.aws, stack.primary, stack.api) == (None, None, None)
    assert os.environ.get(settings.STATE_TABLE) != stack.config.table_name


def test_backend_headers_live_in_a_secret_and_a_rotation_can_be_rehearsed(
    aws: AwsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's rehearsal: the demo primary demands the key, then a new one; the secret
    is updated with boto3, and the next export is delivered with the new key."""
    old, new = "Bearer local-key-1-0b7c", "Bearer local-key-2-f41d"
    headers = {"Authorization": old, "X-Scope": "team-a"}
    name = uuid.uuid4().hex[:12]
    client = {"Authorization": "Bearer t0ken", "Content-Type": "application/x-protobuf"}
    stack = LocalStack(
        config(
            primary_headers=headers,
            primary_headers_secret_name=f"primary-headers-{name}",
            operations=False,
        )
    )
    with stack:
        assert stack.primary is not None
        secret = stack.headers_secret_arns["primary"]
        traces = stack.api_url + "/v1/traces"
        assert requests.post(traces, data=b"", headers=client).status_code == 200
        first = stack.primary.exports[-1].headers

        requests.post(stack.primary.control_url, json={"require_headers": {"Authorization": new}})
        rotated = json.dumps({**headers, "Authorization": new})
        aws.secretsmanager().put_secret_value(SecretId=secret, SecretString=rotated)
        assert requests.post(traces, data=b"", headers=client).status_code == 200
        second = stack.primary.exports[-1].headers
        unauthorized = stack.primary.unauthorized
        environment = stack.handler_environment()
        print(banner(stack))

    assert (first["authorization"], first["x-scope"]) == (old, "team-a")
    assert (second["authorization"], unauthorized) == (new, 1)
    assert environment[settings.PRIMARY_HEADERS_SECRET] == secret
    assert environment[settings.SECONDARY_HEADERS_SECRET] is None
    printed = capsys.readouterr().out
    assert "headers        primary: Authorization, X-Scope  (secret arn:aws:" in printed
    assert "key-1" not in printed and "key-2" not in printed and "team-a" not in printed


@contextmanager
def socket_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_cli_serves_the_real_ingest_handler_until_sigterm(repo_root: Path) -> None:
    if not (repo_root / "functions" / "ingest" / "app.py").is_file():
        pytest.skip("functions/ingest/app.py is not written yet")
    command = [sys.executable, "-m", "otlp_failover_dev.cli", "local", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--aws-port", "0", "--token", "t0ken"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner = read_banner(process.stdout)
    try:
        api = re.search(r"OTEL_EXPORTER_OTLP_ENDPOINT=(\S+)", banner)
        control = re.search(r"make it fail: POST (\S+)\)", banner)
        assert api and control, banner
        assert 'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer t0ken"' in banner
        assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in banner
        status = requests.get(api[1] + "/status", headers={"Authorization": "Bearer t0ken"})
        assert status.json()["signals"]["traces"]["level"] == 0
        assert requests.get(api[1] + "/status").status_code == 401

        exporter = OTLPSpanExporter(
            endpoint=api[1] + "/v1/traces", headers={"Authorization": "Bearer t0ken"}
        )
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        with provider.get_tracer("test").start_as_current_span("through-the-gateway"):
            pass
        provider.shutdown()
        assert requests.get(control[1]).json()["items"]["traces"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert "stopped" in process.stdout.read()


def read_banner(stream: Iterable[str], timeout: float = 60) -> str:
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in stream:
            lines.append(line)
            if "OTEL_EXPORTER_OTLP_PROTOCOL" in line:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout)
    return "".join(lines)
