"""Probe Lambda (every minute): brings signals back to higher levels, reports CurrentLevel."""

from __future__ import annotations

from typing import Any

from otlp_failover.aws.lambda_invoker import AsyncInvoker
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal

# The budget rule, which template.yaml's ProbeFunction Timeout (90 s) follows: a run
# probes for at most RUN_SECONDS, inside the schedule's minute, and its budget ends at
# least MARGIN_SECONDS before the invocation does, however long the init took. Every wait
# of a run (interval, gap, probe) ends by the budget, whatever RetryInterval, RetryGap
# and the backends do; after it come at most a recovery's state write and its drain
# start: two AWS calls of at most 2 attempts x (2 s connect + 5 s read) each
# (aws/clients.py). The settings check that a first pass over every level fits
# (settings/chain.py, PROBE_PASS_SECONDS).
RUN_SECONDS = 55.0
MARGIN_SECONDS = 30.0

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
    budget = max(0.0, budget)  # even with no time left, CurrentLevel goes out first
    recoveries = prober.run(budget)
    return {"recoveries": [[r.signal.value, r.from_level, r.to_level] for r in recoveries]}
