"""The ingest API: OTLP/HTTP routes and GET /status, answered as the OTLP/HTTP spec says.

200 only after some level accepted the export; 503 with Retry-After only when every
level failed; 4xx with a google.rpc.Status body for requests that are the client's fault.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from otlp_failover.codec import (
    ExportBody,
    MediaType,
    decode_export,
    decode_export_response,
    export_response_body,
    media_type_of,
)
from otlp_failover.errors import (
    MethodNotAllowedError,
    NotFoundError,
    RequestError,
    SecretError,
    UnauthorizedError,
)
from otlp_failover.failover.outcomes import ExportResult, RouteResult, Verdict
from otlp_failover.failover.router import FailoverRouter
from otlp_failover.gateway.auth import Authenticator
from otlp_failover.gateway.event import HttpRequest, error_response, response
from otlp_failover.gateway.status import StatusPage
from otlp_failover.metrics import Metrics
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

API_GATEWAY_TIMEOUT = 29.0  # HTTP API integrations end at 30 s; answer before that
DEADLINE_MARGIN = 1.0  # time kept to build and return the response
DEFAULT_RETRY_AFTER = 10  # seconds a client waits when every level failed


@dataclass(frozen=True)
class BodyLimits:
    max_body_bytes: int  # as received, after base64
    max_decompressed_bytes: int


class IngestGateway:
    def __init__(
        self,
        router: FailoverRouter,
        auth: Authenticator,
        status: StatusPage,
        limits: BodyLimits,
        metrics: Metrics,
        *,
        init_started: float | None = None,
    ) -> None:
        self.router = router
        self.auth = auth
        self.status = status
        self.limits = limits
        self.metrics = metrics
        # API Gateway's 30 s began before this instance's cold start: the first request
        # gets what is left of them. Monotonic; None once used, or when not known.
        self._init_started = init_started

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        try:
            return self._handle(event, context)
        finally:
            self.metrics.flush()

    def _handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        media_type = MediaType.JSON
        # Taken first, whatever becomes of this request: only the first one waited for init.
        init_started, self._init_started = self._init_started, None
        deadline = export_deadline(time.monotonic(), _remaining(context), init_started)
        try:
            request = HttpRequest.from_event(event, self.limits.max_body_bytes)
            media_type = request.reply_media_type()
            return self._dispatch(request, deadline)
        except RequestError as exc:
            headers = {"www-authenticate": "Bearer"} if isinstance(exc, UnauthorizedError) else {}
            return error_response(exc.status, exc.message, media_type, headers)
        except SecretError as exc:
            log.error("ingest token unavailable: %s", exc)
            return error_response(503, "authentication is unavailable", media_type, _retry())
        except Exception:
            # A bug, not a backend outage: say so honestly and keep the trace in the logs.
            log.exception("unexpected error while handling a request")
            return error_response(500, "internal error", media_type)

    def _dispatch(self, request: HttpRequest, deadline: float) -> dict[str, Any]:
        signal = Signal.from_path(request.path)
        if signal is None and request.path.rstrip("/") != "/status":
            raise NotFoundError(f"no route for {request.path}")
        self.auth.check(request)
        if signal is None:
            if request.method != "GET":
                raise MethodNotAllowedError("use GET /status")
            document = self.status.document(datetime.now(UTC))
            return response(200, orjson.dumps(document), "application/json")
        if request.method != "POST":
            raise MethodNotAllowedError(f"use POST {signal.path}")
        body = decode_export(
            signal,
            request.body,
            request.headers.get("content-type"),
            request.headers.get("content-encoding"),
            max_decompressed_bytes=self.limits.max_decompressed_bytes,
        )
        return self._answer(body, self.router.route(body, deadline))

    def _answer(self, body: ExportBody, routed: RouteResult) -> dict[str, Any]:
        result = routed.result
        if routed.verdict is Verdict.ACCEPTED:
            return response(200, _success_body(body, result), body.media_type.value)
        if routed.verdict is Verdict.REJECTED:
            message = f"refused by {result.exporter}: {result.reason}"
            return error_response(413 if result.too_large else 400, message, body.media_type)
        log.error("every level failed for %s: %s", body.signal, result.reason)
        retry_after = max([r.retry_after or 0 for r in routed.failures] + [DEFAULT_RETRY_AFTER])
        return error_response(
            503, "every level failed; retry later", body.media_type, _retry(retry_after)
        )


def _success_body(body: ExportBody, result: ExportResult) -> bytes:
    """The primary's own response when it speaks the client's media type (partial success)."""
    answered = media_type_of(result.content_type) if result.body else None
    if answered is body.media_type:
        return result.body
    if answered is not None:
        parsed = decode_export_response(body.signal, result.body, answered)
        if parsed is not None:
            return export_response_body(body.signal, body.media_type, parsed.partial_success)
    return export_response_body(body.signal, body.media_type)


def export_deadline(now: float, remaining: float | None, init_started: float | None) -> float:
    """When the levels must be done (monotonic): before API Gateway's integration timeout,
    which counts a cold start, and before the function's own timeout (``remaining``)."""
    budget = API_GATEWAY_TIMEOUT
    if remaining is not None:
        budget = min(budget, remaining)
    if init_started is not None:
        budget = min(budget, API_GATEWAY_TIMEOUT - (now - init_started))
    return now + budget - DEADLINE_MARGIN


def _remaining(context: Any) -> float | None:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return float(context.get_remaining_time_in_millis()) / 1000
    return None


def _retry(seconds: float = DEFAULT_RETRY_AFTER) -> dict[str, str]:
    return {"retry-after": str(int(seconds + 0.999))}
