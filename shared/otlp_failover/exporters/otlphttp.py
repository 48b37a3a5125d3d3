"""OTLP/HTTP exporter: forwards the client's original bytes over a pooled keep-alive session.

Retries inside the level follow the OTLP/HTTP spec (429, 502, 503, 504 and connection
errors are retryable; Retry-After is honoured) within a budget that ends before the
request's deadline, so a slow primary still leaves time for the next level.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter

from otlp_failover.codec import ExportBody, MediaType, decode_status
from otlp_failover.config import OtlpHttpConfig
from otlp_failover.exporters.base import Exporter, ExportResult, Outcome

USER_AGENT = "otlp-failover/0.1"
MAX_RESPONSE_BYTES = 64 * 1024  # a backend's answer is tiny; a huge one is cut, not buffered
_RETRYABLE = frozenset({408, 429, 502, 503, 504})
_PAYLOAD_FAULT = frozenset({400, 413})
_MIN_ATTEMPT_SECONDS = 0.05


def new_session(pool_size: int = 16) -> requests.Session:
    """A keep-alive session built once per cold start; urllib3 retries are ours to do."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # proxies and .netrc credentials must not leak into exports
    return session


class OtlpHttpExporter(Exporter):
    def __init__(
        self,
        config: OtlpHttpConfig,
        session: requests.Session,
        headers: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config.name)
        self.config = config
        self._session = session
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._clock = clock
        self._sleep = sleep

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        url = self.config.url(body.signal.path)
        headers = {**self._headers, "Content-Type": body.media_type.value}
        if body.encoding:
            headers["Content-Encoding"] = body.encoding
        policy = self.config.retry
        budget_end = min(deadline, self._clock() + policy.max_elapsed_time)
        attempt, interval = 0, policy.initial_interval
        while True:
            attempt += 1
            result, retryable = self._attempt(url, headers, body.raw, deadline, attempt)
            if not retryable or not (retry and policy.enabled):
                return result
            wait = result.retry_after if result.retry_after is not None else _jitter(interval)
            if self._clock() + wait + _MIN_ATTEMPT_SECONDS >= budget_end:
                return result
            self._sleep(wait)
            interval = min(interval * 2, policy.max_interval)

    def _attempt(
        self, url: str, headers: dict[str, str], data: bytes, deadline: float, attempt: int
    ) -> tuple[ExportResult, bool]:
        remaining = deadline - self._clock()
        if remaining < _MIN_ATTEMPT_SECONDS:
            return self._failed("deadline reached", attempt), False
        timeout = min(self.config.timeout, remaining)
        try:
            response = self._session.post(
                url, data=data, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            )
        except requests.Timeout:
            return self._failed(f"timeout after {timeout:.1f}s", attempt), True
        except requests.ConnectionError as exc:
            return self._failed(f"connection error ({_root_cause(exc)})", attempt), True
        except requests.RequestException as exc:
            return self._failed(f"request error ({type(exc).__name__})", attempt), False
        with response:
            content = _bounded_content(response)
        status = response.status_code
        content_type = response.headers.get("Content-Type")
        outcome = _outcome(status)
        reason = f"HTTP {status}"
        if outcome is Outcome.REJECTED:  # the client deserves the backend's own words
            reason += _status_message(content, content_type)
        result = ExportResult(
            outcome=outcome,
            exporter=self.name,
            status=status,
            body=content,
            content_type=content_type,
            retry_after=_retry_after(response.headers.get("Retry-After")),
            reason=reason,
            attempts=attempt,
        )
        return result, status in _RETRYABLE

    def _failed(self, reason: str, attempt: int) -> ExportResult:
        return ExportResult(Outcome.FAILED, self.name, reason=reason, attempts=attempt)

    def close(self) -> None:
        self._session.close()


def _outcome(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.ACCEPTED
    if status in _PAYLOAD_FAULT:
        return Outcome.REJECTED
    # 401/403/404 mean misconfiguration: keeping the data beats losing it, so fail over.
    return Outcome.FAILED


def _status_message(content: bytes, content_type: str | None) -> str:
    """``: <message>`` of a google.rpc.Status body, if the backend sent one."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not content or media not in (MediaType.PROTOBUF.value, MediaType.JSON.value):
        return ""
    status = decode_status(content, MediaType(media))
    message = str(getattr(status, "message", "") or "")
    return f": {message[:500]}" if message else ""


def _bounded_content(response: requests.Response) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=16 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                break
    except requests.RequestException:
        pass  # the status line already tells the outcome; a broken body changes nothing
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _jitter(interval: float) -> float:
    return interval * random.uniform(0.5, 1.5)  # noqa: S311 - backoff jitter, not security


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return type(exc).__name__
