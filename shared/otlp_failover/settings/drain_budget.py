"""Whether the drain's batch limits fit its run budget: checked once, at cold start.

A batch the backend refuses is halved until each bad line is alone, and every settled half
is checkpointed. So a run always progresses if it can make one descent: one send per
halving plus the last, each paced at the worker's share of the rate and each taking up to
its level's timeout and retry budget. A run shorter than that would end every time before
it settled anything and send the same batch again forever.
"""

from __future__ import annotations

import math

from otlp_failover.errors import ConfigError
from otlp_failover.settings.chain import FailoverConfig, OtlpHttpConfig
from otlp_failover.settings.environment import DRAIN_BATCH_LINES, DrainLimits


def longest_send_seconds(chain: FailoverConfig) -> float:
    """The longest one replay POST can take on any OTLP level (timeout + retries)."""
    return max(
        (
            exporter.timeout + exporter.retry.max_elapsed_time
            for index in chain.otlp_levels
            for exporter in chain.priority_levels[index]
            if isinstance(exporter, OtlpHttpConfig)
        ),
        default=0.0,
    )


def check_drain_budget(limits: DrainLimits, chain: FailoverConfig, run_seconds: float) -> None:
    """ConfigError (naming DrainBatchLines) if one bisection descent cannot fit a run."""
    sends = math.ceil(math.log2(max(1, limits.batch_lines))) + 1
    needed = sends * (1.0 / limits.worker_rate + longest_send_seconds(chain))
    if needed > run_seconds:
        raise ConfigError(
            DRAIN_BATCH_LINES,
            f"{limits.batch_lines} lines need up to {sends} sends to isolate a bad line, "
            f"about {needed:.0f} s at {limits.worker_rate:g} requests/s per worker, but a drain "
            f"run has {run_seconds:.0f} s: lower DrainBatchLines, raise DrainRate or DrainTimeout",
        )
