"""Drain Lambda (scheduled, started by the probe, or by hand): replays the S3 backup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from otlp_failover.aws.lambda_invoker import AsyncInvoker
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

MARGIN_SECONDS = 15.0  # time kept to checkpoint, release the lock and continue itself

runtime = Runtime.build()
lambda_client = runtime.aws.lambda_client()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    signals = [Signal(s) for s in event.get("signals") or [s.value for s in Signal]]
    budget = context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS

    def continue_later(left: Sequence[Signal]) -> bool:
        invoke_self = AsyncInvoker(lambda_client, context.invoked_function_arn)
        return invoke_self({"signals": [s.value for s in left], "reason": "continued"})

    report = runtime.drain_job(continue_later).run(budget, signals)
    return {
        "ran": report.ran,
        "skipped": report.skipped,
        "drained": {
            t.signal.value: {"objects": t.objects, "lines": t.lines} for t in report.tallies
        },
        "stopped": {t.signal.value: t.stopped for t in report.tallies if t.stopped},
        "continued": report.unfinished,
    }
