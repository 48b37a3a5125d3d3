"""Drain Lambda: replays the S3 backup, one worker invocation per group of (signal, shard).

Started with ``{"signals": [...]}`` (the schedule, the probe on recovery, or by hand) it
coordinates: it lists which shards wait and invokes itself once per group of units, up to
DrainConcurrency. Started with ``{"units": [[signal, shard], ...]}`` it is a worker: it
drains those units and, out of time, invokes itself again for what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from otlp_failover.aws.lambda_invoker import AsyncInvoker
from otlp_failover.drain.ports import DrainUnit
from otlp_failover.runtime import Runtime
from otlp_failover.settings.drain_budget import check_drain_budget
from otlp_failover.signals import Signal

MARGIN_SECONDS = 15.0  # time kept to checkpoint, release the leases and continue itself

runtime = Runtime.build()
_limits = runtime.settings.drain
check_drain_budget(_limits, runtime.settings.failover, _limits.timeout - MARGIN_SECONDS)
lambda_client = runtime.aws.lambda_client()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    invoke_self = AsyncInvoker(lambda_client, context.invoked_function_arn)

    def start_worker(units: Sequence[DrainUnit]) -> bool:
        return invoke_self({"units": [unit.as_list() for unit in units], "reason": "worker"})

    if "units" not in event:
        signals = [Signal(s) for s in event.get("signals") or [s.value for s in Signal]]
        started = runtime.drain_job().dispatch(start_worker, signals)
        return {"workers": [[str(unit) for unit in group] for group in started]}

    units = [DrainUnit.from_list(raw) for raw in event["units"]]
    budget = context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS
    report = runtime.drain_job(start_worker).work(units, budget)
    return {
        "ran": report.ran,
        "skipped": report.skipped,
        "drained": {str(t.unit): {"objects": t.objects, "lines": t.lines} for t in report.tallies},
        "stopped": {str(t.unit): t.stopped for t in report.tallies if t.stopped},
        "continued": report.continued,
    }
