"""E2E tier: the whole local stack driven by the real OpenTelemetry SDK exporters.

Every stack binds 127.0.0.1 on free ports and gets fresh table, bucket and secret names
(moto keeps one state per process). A stack sets the handlers' environment in
``os.environ`` while it runs, so the tier starts one stack at a time.

Two settings are shortened for speed, both through the same variables a deployment sets:
``EXPORT_RETRY_BUDGET`` (how long the gateway retries a failing backend before the next
level; 2 s by default, so each export during an outage costs that) and ``STATE_CACHE_TTL``
(how long an ingest instance keeps a level it read; after a recovery it sends to the
backup for that long). Neither changes what is delivered, only how soon.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from otlp_failover.settings import environment as settings
from otlp_failover.signals import Signal
from otlp_failover_dev.commands.target import STATE_FILE_ENV
from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig

StackFactory = Callable[..., LocalStack]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def e2e_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fast failure paths, and a published-stack file that is never the user's own."""
    monkeypatch.setenv(settings.EXPORT_RETRY_BUDGET, "500ms")
    monkeypatch.setenv(settings.STATE_CACHE_TTL, "1")
    state_file = tmp_path / "otlp-failover-local.json"
    monkeypatch.setenv(STATE_FILE_ENV, str(state_file))
    for name in list(os.environ):
        if name.startswith("OTEL_EXPORTER_OTLP_"):  # a developer's own SDK settings
            monkeypatch.delenv(name)
    return state_file


def stack_config(**overrides: Any) -> LocalStackConfig:
    name = uuid.uuid4().hex[:12]
    values: dict[str, Any] = {
        "port": 0,
        "aws_port": 0,
        "table_name": f"e2e-state-{name}",
        "bucket_name": f"e2e-backup-{name}",
        "token_secret_name": f"e2e-token-{name}",
        "token": secrets.token_urlsafe(18),
        "max_retries": 3,
        "retry_interval": 1.0,
        "retry_gap": 0.2,
        "drain_interval": 1.0,
        **overrides,
    }
    return LocalStackConfig(**values)


@pytest.fixture
def start_stack() -> Iterator[StackFactory]:
    """``start_stack(**LocalStackConfig overrides)``; every stack started stops after."""
    started: list[LocalStack] = []

    def start(**overrides: Any) -> LocalStack:
        stack = LocalStack(stack_config(**overrides)).start()
        started.append(stack)
        return stack

    yield start
    for stack in reversed(started):
        stop(stack)


def stop(stack: LocalStack) -> None:
    """Stop a stack and drop its table: moto's state outlives the stack for the whole
    process, and tiers run after this one list tables (``ListTables`` pages at 100). The
    probe and the drains stop first: one still running would read a table that is gone."""
    stack.scheduler.stop()
    if stack.operations is not None:
        stack.operations.join()
    if stack.aws is not None:
        stack.aws.dynamodb().delete_table(TableName=stack.config.table_name)
    stack.stop()


def auth(stack: LocalStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.config.token}"}


def status(stack: LocalStack) -> dict[str, Any]:
    reply = requests.get(stack.api_url + "/status", headers=auth(stack), timeout=10)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def level(stack: LocalStack, signal: Signal) -> int:
    value: int = status(stack)["signals"][signal.value]["level"]
    return value


def levels(stack: LocalStack) -> dict[str, int]:
    return {name: state["level"] for name, state in status(stack)["signals"].items()}


def backlog(stack: LocalStack) -> dict[str, int]:
    return {name: entry["objects"] for name, entry in status(stack)["backlog"].items()}


def metrics_levels(stack: LocalStack) -> dict[str, int]:
    """``otelcol_connector_failover_current_level`` per signal, from ``GET /metrics``."""
    text = requests.get(stack.api_url + "/metrics", timeout=10).text
    pattern = r'^otelcol_connector_failover_current_level\{signal="(\w+)"\} (\d+)$'
    return {m[1]: int(m[2]) for m in re.finditer(pattern, text, re.MULTILINE)}


def wait_until(
    condition: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = ""
) -> float:
    """Poll ``condition`` until it is truthy; returns the seconds it took, fails at ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout}s: {what or condition}")
        time.sleep(interval)
    return time.monotonic() - started
