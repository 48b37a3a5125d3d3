"""Drain Lambda (scheduled, started by the probe, or by hand): replays the S3 backup."""

from __future__ import annotations

from typing import Any

import boto3

from otlp_failover.drain import DrainLimits
from otlp_failover.drain_run import run_drain
from otlp_failover.drain_store import DrainStore
from otlp_failover.invoker import AsyncInvoker
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

MARGIN_SECONDS = 15.0  # time kept to checkpoint, release the lock and continue itself

runtime = Runtime.build()
store = DrainStore(runtime.dynamodb, runtime.settings.state_table)
limits = DrainLimits(
    rate=runtime.settings.drain_rate, batch_lines=runtime.settings.drain_batch_lines
)
lambda_client = boto3.client("lambda")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    signals = [Signal(s) for s in event.get("signals") or [s.value for s in Signal]]
    budget = context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS
    report = run_drain(runtime, store, budget, signals=signals, limits=limits)
    if report.unfinished:
        continue_drain = AsyncInvoker(lambda_client, context.invoked_function_arn)
        continue_drain({"signals": [s.value for s in signals], "reason": "continued"})
    return {
        "ran": report.ran,
        "skipped": report.skipped,
        "drained": {
            t.signal.value: {"objects": t.objects, "lines": t.lines} for t in report.tallies
        },
        "stopped": {t.signal.value: t.stopped for t in report.tallies if t.stopped},
        "continued": report.unfinished,
    }
