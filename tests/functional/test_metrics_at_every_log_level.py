"""Every metric survives every LogLevel the template allows, under Lambda's JSON log filter.

The three handlers (functions/<ingest|probe|drain>/app.py, cold-started as Lambda does)
run an outage and its end: an export backed up, a probe run, a drain run. Their stdout
goes through the filter Lambda applies with ``LogFormat: JSON`` and an application log
level, and the metrics the alarms and the dashboard need must come out the other side.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from otlp_failover.settings import environment as settings
from otlp_failover_dev.local._payload import LambdaContext, build_event
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.stack import load_module
from otlp_failover_dev.local.template import Template
from tests.functional.gateway import TOKEN
from tests.functional.test_ingest import spans

LAMBDA_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
NEEDED = {"ExportsAccepted", "BackupWrites", "CurrentLevel", "BacklogObjects", "DrainedRequests"}


def lambda_keeps(line: str, threshold: str) -> bool:
    """Lambda's filter for one line of application output in the JSON log format: a JSON
    object with a known ``level`` and an RFC 3339 ``timestamp`` has that level; anything
    else counts as INFO. Lines below the function's log level are dropped."""
    level = "INFO"
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if isinstance(record, dict) and _rfc3339(record.get("timestamp")):
        stated = str(record.get("level", "")).upper()
        level = stated if stated in LAMBDA_LEVELS else "INFO"
    return LAMBDA_LEVELS.index(level) >= LAMBDA_LEVELS.index(threshold)


def _rfc3339(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def metric_names(lines: list[str]) -> set[str]:
    names: set[str] = set()
    for line in lines:
        record = json.loads(line)
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            names.update(metric["Name"] for metric in directive["Metrics"])
    return names


def allowed_log_levels() -> list[str]:
    template = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
    levels: list[str] = template.parameters["LogLevel"]["AllowedValues"]
    return levels


def test_the_filter_drops_a_metric_line_without_a_level_above_info() -> None:
    bare = json.dumps({"_aws": {}, "timestamp": "2027-01-15T08:00:00.000Z"})
    assert lambda_keeps(bare, "INFO") and not lambda_keeps(bare, "WARN")
    assert not lambda_keeps(json.dumps({"level": "ERROR"}), "WARN")  # no timestamp: INFO
    assert lambda_keeps(json.dumps({"level": "ERROR", "timestamp": "2027-01-15T08:00Z"}), "ERROR")


@pytest.mark.parametrize("log_level", allowed_log_levels())
def test_every_handlers_metrics_pass_lambdas_log_filter_at_every_allowed_level(
    log_level: str,
    chain_env: dict[str, str],
    backend: OtlpBackend,
    repo_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {**chain_env, settings.LAMBDA_LOG_LEVEL: log_level}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "otlp-failover")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv(settings.DRAIN_FUNCTION_NAME, raising=False)
    functions = repo_root / "functions"

    backend.set_mode("refuse")
    ingest = load_module(functions / "ingest" / "app.py")
    headers = [("content-type", "application/x-protobuf"), ("authorization", f"Bearer {TOKEN}")]
    event = build_event("POST", "/v1/traces", headers, spans().SerializeToString())
    assert ingest.lambda_handler(event, context("ingest", 30))["statusCode"] == 200
    backend.set_mode("healthy")
    load_module(functions / "probe" / "app.py").lambda_handler({}, context("probe", 90))
    drain = load_module(functions / "drain" / "app.py")
    invoked = LambdaInvokes()
    monkeypatch.setattr(drain, "lambda_client", invoked)
    drain.lambda_handler({}, context("drain", 300))  # the coordinator starts the workers
    replayed = 0
    for payload in invoked.payloads:  # each worker, as Lambda would run it
        worked = drain.lambda_handler(payload, context("drain", 300))
        replayed += sum(unit["lines"] for unit in worked["drained"].values())
    assert replayed == 1

    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    kept = [line for line in lines if lambda_keeps(line, log_level)]
    lost = NEEDED - metric_names(kept)
    assert not lost, f"lost at {log_level}: {sorted(lost)}"
    if LAMBDA_LEVELS.index(log_level) > LAMBDA_LEVELS.index("INFO"):
        unlevelled = [
            json.dumps({k: v for k, v in json.loads(x).items() if k != "level"}) for x in lines
        ]
        assert not any(lambda_keeps(line, log_level) for line in unlevelled)  # the filter bites


class LambdaInvokes:
    """The drain's Lambda client: records the asynchronous invocations it is asked for."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, **call: Any) -> dict[str, Any]:
        assert call["InvocationType"] == "Event"
        self.payloads.append(json.loads(call["Payload"]))
        return {"StatusCode": 202}


def context(function: str, seconds: float) -> LambdaContext:
    return LambdaContext(function, f"req-{function}", time.monotonic() + seconds)
