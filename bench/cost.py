"""Inputs of the README's cost estimate: per export, healthy and failed over to S3.

For each state and size: the handler's duration on this machine (Lambda arm64 differs),
the AWS API calls it made (DynamoDB, S3, Secrets Manager, counted on botocore's hooks)
and the bytes that are billed somewhere (the Lambda event, what goes to the primary or
to S3, what the function writes to its log: EMF metrics and JSON log lines).

"Failed over" is the steady state during an outage: the signal's level is already the
S3 level, reached the natural way (a primary refusing connections, ``MAX_RETRIES``
failed exports); those switching exports are reported apart.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from typing import Any

from bench.forward import Invoker, context, export_event
from bench.measure import ApiCalls, CountingStdout, say
from bench.payloads import export_bytes
from bench.services import Services, aws_clients, load_ingest_app, refusing_url, runtime_of
from otlp_failover.signals import Signal

COST_SIZES = ("1KiB", "100KiB")
EXPORTS = {"1KiB": 300, "100KiB": 100}
_SERVICES = ("dynamodb", "s3", "secretsmanager")


def _instance(services: Services, primary: str) -> tuple[Invoker, ApiCalls]:
    app = load_ingest_app(services.environment(primary=primary))
    return Invoker(app), ApiCalls(aws_clients(runtime_of(app)))


def _per_service(calls: ApiCalls, exports: int) -> dict[str, float]:
    counts = calls.by_service()
    counts["secretsmanager"] += counts.pop("secrets-manager", 0)
    return {name: round(counts[name] / exports, 4) for name in _SERVICES}


def _steady(invoke: Invoker, calls: ApiCalls, size: str, exports: int) -> dict[str, Any]:
    body = export_bytes(Signal.TRACES, size, seed=11)
    event = export_event(Signal.TRACES, body)
    ctx = context()
    log = sys.stdout
    assert isinstance(log, CountingStdout)
    invoke(event, ctx)  # warm: clients connected, state and token cached
    calls.reset()
    log_before, durations = log.chars, []
    started = time.perf_counter()
    for _ in range(exports):
        begun = time.perf_counter()
        reply = invoke.app.lambda_handler(event, ctx)
        durations.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    durations.sort()
    return {
        "exports": exports,
        "elapsed_s": round(elapsed, 3),
        "handler_ms_median": round(statistics.median(durations) * 1e3, 3),
        "handler_ms_p90": round(durations[int(len(durations) * 0.9)] * 1e3, 3),
        "aws_call_ms_per_export": round(calls.seconds / exports * 1e3, 3),
        "api_calls_per_export": _per_service(calls, exports),
        "api_calls_total": dict(calls.calls),
        "bytes": {
            "request_body": len(body),
            "lambda_event": len(json.dumps(event)),
            "lambda_response": len(json.dumps(reply)),
            "s3_object": round(calls.put_bytes / exports),
            "log_output": round((log.chars - log_before) / exports),
        },
    }


def _fail_over(invoke: Invoker, calls: ApiCalls) -> dict[str, Any]:
    """Exports until the traces level is the S3 level, and what that switch cost."""
    runtime = runtime_of(invoke.app)
    event = export_event(Signal.TRACES, export_bytes(Signal.TRACES, "1KiB", seed=12))
    calls.reset()
    durations: list[float] = []
    state = invoke.app.gateway.router.state  # what this instance knows, read without a call
    while state.last_known(Signal.TRACES).level < len(runtime.levels) - 1:
        if len(durations) >= 10:
            raise RuntimeError("the traces level did not move to S3 after 10 failed exports")
        begun = time.perf_counter()
        invoke(event, context())
        durations.append(round((time.perf_counter() - begun) * 1e3, 1))
    return {"exports": len(durations), "handler_ms": durations, "api_calls": dict(calls.calls)}


def cost_inputs(services: Services, quick: bool) -> dict[str, Any]:
    scale = 5 if quick else 1
    healthy, healthy_calls = _instance(services, services.sink.url)
    runtime = runtime_of(healthy.app)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, moto for AWS (Lambda: arm64, Python 3.13, real AWS)",
        "signal": "traces",
        "lambda_memory_mb": int(services.aws.template.names.get("FunctionMemorySize", 0)),
        "state_cache_ttl_s": runtime.settings.state_cache_ttl,
        "token_cache_ttl_s": getattr(runtime.secrets, "ttl", None),
        "healthy": {},
        "failed_over": {},
    }
    for size in COST_SIZES:
        result["healthy"][size] = _steady(healthy, healthy_calls, size, EXPORTS[size] // scale)
    failing, failing_calls = _instance(services, refusing_url())
    result["switch_to_s3"] = _fail_over(failing, failing_calls)
    for size in COST_SIZES:
        result["failed_over"][size] = _steady(failing, failing_calls, size, EXPORTS[size] // scale)
    for state in ("healthy", "failed_over"):
        for size in COST_SIZES:
            row = result[state][size]
            say(
                f"  {state:11} {size:>6}: {row['handler_ms_median']:.2f} ms median "
                f"(p90 {row['handler_ms_p90']:.2f}; in AWS calls "
                f"{row['aws_call_ms_per_export']:.2f}), calls/export {row['api_calls_per_export']}"
            )
            say(f"  {'':18} bytes {row['bytes']}")
    switch = result["switch_to_s3"]
    say(f"  switch to S3: {switch['exports']} exports, {switch['handler_ms']} ms")
    say(f"  {'':12} {switch['api_calls']}")
    return result
