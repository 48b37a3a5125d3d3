"""Ingest Lambda: OTLP/HTTP exports in, the highest-priority healthy level out.

Everything long-lived is built at cold start; the handler only passes the event through.
"""

from __future__ import annotations

from typing import Any

from otlp_failover.runtime import Runtime

runtime = Runtime.build()
gateway = runtime.ingest_gateway()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return gateway.handle(event, context)
