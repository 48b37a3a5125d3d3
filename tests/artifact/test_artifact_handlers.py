"""The built ingest, probe and drain functions, each invocation a fresh interpreter that
sees only the build folders, driven with the sample events of events/: forward, fail over
to S3, report the level, come home, replay the backup."""

from __future__ import annotations

from pathlib import Path

from otlp_failover_dev.local.backend import OtlpBackend
from tests.artifact.build import Artifacts
from tests.artifact.deployment import Deployment
from tests.artifact.interpreter import Interpreter
from tests.artifact.otlp_events import (
    log_record_count,
    span_count,
    status_page,
    text_of_object,
    trace_ids,
)

TRACES = "ingest-traces-protobuf"


def received_trace_ids(primary: OtlpBackend) -> set[str]:
    return {
        span.trace_id.hex()
        for export in primary.exports
        if export.signal == "traces"
        for resource in export.message.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }


def pinned(repo_root: Path, name: str) -> str:
    lines = (repo_root / "requirements" / "lambda-runtime.txt").read_text().splitlines()
    return next(line.split("==")[1] for line in lines if line.startswith(f"{name}=="))


def test_the_handler_runs_from_the_build_folders_and_the_runtime_sdk_only(
    deployment: Deployment, artifacts: Artifacts, interpreter: Interpreter, repo_root: Path
) -> None:
    invocation = deployment.function("IngestFunction").invoke(deployment.event("ingest-status"))

    status_page(invocation.result)  # also checks that no module came from elsewhere
    origins = {name: Path(where) for name, where in invocation.report["origins"].items()}
    assert origins["app"].is_relative_to(artifacts.functions["IngestFunction"])
    assert origins["otlp_failover"].is_relative_to(artifacts.layer_site)
    assert origins["boto3"].is_relative_to(artifacts.runtime_sdk)
    assert invocation.report["versions"] == {
        "boto3": pinned(repo_root, "boto3"),
        "botocore": pinned(repo_root, "botocore"),
    }
    assert invocation.report["python"] == interpreter.version
    for entry in invocation.report["sys_path"]:  # neither the checkout nor a site-packages
        assert str(repo_root) not in entry and "site-packages" not in entry, entry


def test_the_ingest_forwards_the_sample_exports_to_a_healthy_primary(
    deployment: Deployment, primary: OtlpBackend
) -> None:
    ingest = deployment.function("IngestFunction")
    traces, logs = deployment.event(TRACES), deployment.event("ingest-logs-json")

    assert ingest.invoke(traces).result["statusCode"] == 200
    assert ingest.invoke(logs).result["statusCode"] == 200

    assert primary.accepted_items("traces") == span_count(traces)
    assert received_trace_ids(primary) == trace_ids(traces)
    assert primary.accepted_items("logs") == log_record_count(logs)
    assert deployment.backlog_keys("traces") == []


def test_the_ingest_backs_the_export_up_to_s3_while_the_primary_is_down(
    deployment: Deployment, primary: OtlpBackend
) -> None:
    ingest = deployment.function("IngestFunction")
    traces = deployment.event(TRACES)
    primary.set_mode("refuse")

    assert ingest.invoke(traces).result["statusCode"] == 200

    [key] = deployment.backlog_keys("traces")
    assert all(
        trace_id in text_of_object(deployment.read_object(key)) for trace_id in trace_ids(traces)
    )
    page = status_page(ingest.invoke(deployment.event("ingest-status")).result)
    assert page["signals"]["traces"]["level"] == 1  # MaxRetries=1: one failure moves it
    assert page["backlog"]["traces"]["objects"] == 1


def test_the_probe_brings_traces_home_and_the_drain_replays_the_backup(
    deployment: Deployment, primary: OtlpBackend
) -> None:
    ingest, probe, drain = (
        deployment.function(name) for name in ("IngestFunction", "ProbeFunction", "DrainFunction")
    )
    traces = deployment.event(TRACES)
    primary.set_mode("refuse")
    assert ingest.invoke(traces).result["statusCode"] == 200
    assert len(deployment.backlog_keys("traces")) == 1
    primary.set_mode("healthy")

    ran = probe.invoke(deployment.event("probe-scheduled")).result

    assert ran["recoveries"] == [["traces", 1, 0]]
    page = status_page(ingest.invoke(deployment.event("ingest-status")).result)
    assert page["signals"]["traces"]["level"] == 0
    # On recovery the probe starts the drain of that signal (run below, as by hand).
    [started] = deployment.lambda_api.take()
    assert started.function_name == drain.spec.name
    assert started.payload["signals"] == ["traces"]

    primary.clear()  # the probe's own request is not what the drain replays
    assert isinstance(drain.invoke(deployment.event("drain-manual")).result, dict)
    followed = deployment.run_queued()  # the workers the drain starts, and so on

    for request, invocation in followed:
        assert request.function_name == drain.spec.name
        assert isinstance(invocation.result, dict)  # no error, the build folders only
    assert primary.accepted_items("traces") == span_count(traces)
    assert received_trace_ids(primary) == trace_ids(traces)
    assert deployment.backlog_keys("traces") == []
