"""Probe Lambda (every minute): brings signals back to higher levels, reports CurrentLevel."""

from __future__ import annotations

from typing import Any

from otlp_failover.aws.lambda_invoker import AsyncInvoker
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

RUN_SECONDS = 55.0  # the schedule starts the next run in a minute
MARGIN_SECONDS = 10.0

runtime = Runtime.build()
_drain_function = runtime.settings.drain_function_name
_invoke_drain = (
    AsyncInvoker(runtime.aws.lambda_client(), _drain_function) if _drain_function else None
)


def start_drain(signal: Signal) -> None:
    if _invoke_drain is not None:
        _invoke_drain({"signals": [signal.value], "reason": "recovered"})


prober = runtime.prober(start_drain)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    budget = min(RUN_SECONDS, context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS)
    recoveries = prober.run(budget)
    return {"recoveries": [[r.signal.value, r.from_level, r.to_level] for r in recoveries]}
