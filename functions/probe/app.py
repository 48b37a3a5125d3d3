"""Probe Lambda (every minute): brings signals back to higher levels, reports CurrentLevel."""

from __future__ import annotations

from typing import Any

import boto3

from otlp_failover.invoker import AsyncInvoker
from otlp_failover.recovery import Prober
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

RUN_SECONDS = 55.0  # the schedule starts the next run in a minute
MARGIN_SECONDS = 10.0

runtime = Runtime.build()
_start_drain = (
    AsyncInvoker(boto3.client("lambda"), runtime.settings.drain_function_name)
    if runtime.settings.drain_function_name
    else None
)


def start_drain(signal: Signal) -> None:
    if _start_drain is not None:
        _start_drain({"signals": [signal.value], "reason": "recovered"})


prober = Prober(runtime, start_drain)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    budget = min(RUN_SECONDS, context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS)
    recoveries = prober.run(budget)
    return {"recoveries": [[r.signal.value, r.from_level, r.to_level] for r in recoveries]}
