"""Ingest Lambda: OTLP/HTTP exports in, the highest-priority healthy level out.

Everything long-lived is built at cold start; the handler only passes the event through.
"""

from __future__ import annotations

import time

# First: API Gateway's 30 s include this cold start, so the first request's deadline does.
INIT_STARTED = time.monotonic()

from typing import Any  # noqa: E402 - after the clock read on purpose

from otlp_failover.runtime import Runtime  # noqa: E402

runtime = Runtime.build()
gateway = runtime.ingest_gateway(INIT_STARTED)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return gateway.handle(event, context)
