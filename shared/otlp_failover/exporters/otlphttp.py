"""OTLP/HTTP exporter: forwards the client's original bytes over a pooled keep-alive connection.

Retries inside the level follow the OTLP/HTTP spec (408, 429, 502, 503, 504 and connection
errors are retryable; Retry-After is honoured) within a budget that ends before the
request's deadline, so a slow primary still leaves time for the next level. Each attempt
ends by an absolute deadline (``deadline.py``), however slowly the backend answers.

The client's bytes go out with the client's Content-Encoding. A backend that answers 415
to a compressed body gets the same request again gzip-compressed, or uncompressed if gzip
is what it refused (``reencoded``): gzip or nothing is what every OTLP/HTTP receiver
takes. Once it took the other body, the exporter remembers the refused encoding for as
long as it lives (one Lambda instance) and re-encodes at once instead of asking again.

The exporter's own headers come from a ``HeaderSource`` (``headers.py``) on every export.
A 401 or 403 asks it to look again once; when it has other headers (a rotated key), the
export is tried once more with them, inside the same budget, instead of failing over.

It speaks urllib3 directly (botocore's own HTTP library, so it costs no extra import):
``requests`` on top added about half a millisecond per export and 25 ms of cold start,
measured by ``make bench``, for features an exporter does not use.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, TimeoutError

from otlp_failover.codec import ExportBody, decode_status, media_type_of, reencoded
from otlp_failover.errors import SecretError
from otlp_failover.exporters.deadline import WATCHDOG, Guard, Watchdog, guarded, watched_pool
from otlp_failover.exporters.headers import HeaderSource, StaticHeaders
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.settings.chain import OtlpHttpConfig

USER_AGENT = "otlp-failover/0.1"
MAX_RESPONSE_BYTES = 64 * 1024  # a backend's answer is tiny; a huge one is cut, not buffered
_RETRYABLE = frozenset({408, 429, 502, 503, 504})
_PAYLOAD_FAULT = frozenset({400, 413})
_REFUSED_CREDENTIALS = frozenset({401, 403})
_UNSUPPORTED_MEDIA = 415
_MIN_ATTEMPT_SECONDS = 0.05
MAX_RETRY_AFTER = 300  # seconds: a backend's "come back next year" is not passed on

# A body that breaks off or lies about its framing: http.client lets some of these through
# unwrapped (a negative chunk size is a ValueError). The status already read still counts.
_BODY_ERRORS = (HTTPError, OSError, ValueError)

log = logging.getLogger(__name__)


def new_pool(pool_size: int = 16) -> urllib3.PoolManager:
    """Keep-alive connections built once per cold start, whose calls honour deadlines."""
    return watched_pool(pool_size)


class OtlpHttpExporter:
    """An ``Exporter`` to one OTLP/HTTP backend."""

    def __init__(
        self,
        config: OtlpHttpConfig,
        pool: urllib3.PoolManager,
        headers: Mapping[str, str] | HeaderSource | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        watchdog: Watchdog = WATCHDOG,
    ) -> None:
        self.name = config.name
        self.config = config
        self._pool = pool
        self._headers: HeaderSource = (
            StaticHeaders(headers) if headers is None or isinstance(headers, Mapping) else headers
        )
        self._clock = clock
        self._sleep = sleep
        self._watchdog = watchdog
        # Content-Encodings this backend answered 415 to while it took the same request
        # in another one: sent re-encoded from then on.
        self.refused_encodings: set[str] = set()

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        """``retry=False`` still allows the one try with re-read headers: it asks the same
        question with the credentials the backend expects."""
        url = self.config.url(body.signal.path)
        try:
            own = dict(self._headers.current())
        except Exception as exc:  # this level cannot send; the levels below still can
            return self._failed(f"headers unavailable: {_secret_free(exc)}", attempt=0)
        sent = self._encoded_for_backend(body)
        headers = _request_headers(own, sent)
        policy = self.config.retry
        budget_end = min(deadline, self._clock() + policy.max_elapsed_time)
        attempt, interval, reread = 0, policy.initial_interval, False
        refused: list[str] = []  # encodings answered 415 during this export
        while True:
            attempt += 1
            result, retryable = self._attempt(url, headers, sent.raw, deadline, attempt)
            if result.status == _UNSUPPORTED_MEDIA and sent.encoding is not None:
                refused.append(sent.encoding)
                sent = self._instead_of(body, sent.encoding)
                log.info(
                    "%s answered HTTP 415 to Content-Encoding %s: sending it as %s",
                    self.name,
                    refused[-1],
                    sent.encoding or "identity",
                )
                headers = _request_headers(own, sent)
                continue
            if refused and result.outcome is not Outcome.FAILED:
                self._remember_refused(refused)  # it read the other body: the 415 was the encoding
                refused = []
            if result.status in _REFUSED_CREDENTIALS and not reread:
                reread = True  # once per export: new headers refused too are final
                fresh = self._reread(own)
                if fresh is None or self._clock() + _MIN_ATTEMPT_SECONDS >= budget_end:
                    return result
                log.info(
                    "%s answered HTTP %s: retrying with re-read headers", self.name, result.status
                )
                own, headers = fresh, _request_headers(fresh, sent)
                continue
            if not retryable or not (retry and policy.enabled):
                return result
            # Retry-After is a floor, never a way round the backoff: "0" or a past date must
            # not turn one export into a thousand requests.
            wait = max(result.retry_after or 0.0, _jitter(interval), _MIN_ATTEMPT_SECONDS)
            if self._clock() + wait + _MIN_ATTEMPT_SECONDS >= budget_end:
                return result
            self._sleep(wait)
            interval = min(interval * 2, policy.max_interval)

    def _encoded_for_backend(self, body: ExportBody) -> ExportBody:
        """``body`` as it came, unless this backend is known to refuse its encoding."""
        if body.encoding is None or body.encoding not in self.refused_encodings:
            return body
        return self._instead_of(body, body.encoding)

    def _instead_of(self, body: ExportBody, refused: str) -> ExportBody:
        """``body`` gzip-compressed, or uncompressed if gzip is refused as well."""
        if refused == "gzip" or "gzip" in self.refused_encodings:
            return reencoded(body, None)
        return reencoded(body, "gzip")

    def _remember_refused(self, encodings: list[str]) -> None:
        for encoding in encodings:
            if encoding not in self.refused_encodings:
                self.refused_encodings.add(encoding)
                log.warning(
                    "%s refuses Content-Encoding %s (HTTP 415): such exports are re-encoded "
                    "for it from now on",
                    self.name,
                    encoding,
                )

    def _reread(self, refused: dict[str, str]) -> dict[str, str] | None:
        """Headers other than ``refused`` if the source has them now; None otherwise."""
        try:
            if self._headers.refresh(refused):
                return dict(self._headers.current())
        except Exception as exc:
            log.warning("re-reading the headers of %s failed: %s", self.name, _secret_free(exc))
        return None

    def _attempt(
        self, url: str, headers: dict[str, str], data: bytes, deadline: float, attempt: int
    ) -> tuple[ExportResult, bool]:
        """One POST, ended by its deadline whatever the backend does; never raises."""
        remaining = deadline - self._clock()
        if remaining < _MIN_ATTEMPT_SECONDS:
            return self._failed("deadline reached", attempt), False
        timeout = min(self.config.timeout, remaining)
        try:
            # The watchdog runs on the real monotonic clock, whatever clock paces retries.
            with guarded(time.monotonic() + timeout, self._watchdog) as guard:
                return self._exchange(
                    url, headers, data, timeout=timeout, attempt=attempt, guard=guard
                )
        except Exception as exc:
            # Whatever a backend sends must not raise out of an exporter: a failed attempt.
            # The type only: an error's text may quote what was sent, headers included.
            log.warning("unexpected error from %s: %s", self.name, type(exc).__name__)
            return self._failed(f"unexpected error ({type(exc).__name__})", attempt), True

    def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        data: bytes,
        *,
        timeout: float,
        attempt: int,
        guard: Guard,
    ) -> tuple[ExportResult, bool]:
        try:
            response = self._pool.request(
                "POST",
                url,
                body=data,
                headers=headers,
                timeout=urllib3.Timeout(total=timeout),
                retries=False,
                redirect=False,
                preload_content=False,
            )
        except NewConnectionError as exc:
            # Before TimeoutError: urllib3 makes a refused connection a ConnectTimeoutError.
            return self._failed(f"connection error ({_root_cause(exc)})", attempt), True
        except (TimeoutError, HTTPError) as exc:
            if guard.fired or isinstance(exc, TimeoutError):
                return self._failed(f"no answer within {timeout:.1f}s", attempt), True
            return self._failed(f"connection error ({_root_cause(exc)})", attempt), True
        if guard.fired:
            # Cut before the header block ended: http.client takes the EOF for its end, so
            # the status seen is no answer. (A status and headers read whole count, even
            # if the body is cut later: the backend has taken the export.)
            response.close()
            return self._failed(f"no answer within {timeout:.1f}s", attempt), True
        content, whole = _bounded_content(response)
        if guard.finish() or not whole:
            response.close()  # cut, endless or unread: this connection is not reused
        else:
            response.release_conn()
        status = response.status
        content_type = response.headers.get("Content-Type")
        outcome = _outcome(status)
        reason = f"HTTP {status}"
        if outcome is Outcome.REJECTED:  # the client deserves the backend's own words
            reason += _status_message(content, content_type)
        result = ExportResult(
            outcome=outcome,
            exporter=self.name,
            status=status,
            body=content if whole else b"",  # a cut answer is never passed on as if whole
            content_type=content_type,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            reason=reason,
            attempts=attempt,
            too_large=status == 413,
        )
        return result, status in _RETRYABLE

    def _failed(self, reason: str, attempt: int) -> ExportResult:
        return ExportResult(Outcome.FAILED, self.name, reason=reason, attempts=attempt)

    def close(self) -> None:
        self._pool.clear()


def _request_headers(own: Mapping[str, str], body: ExportBody) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, **own, "Content-Type": body.media_type.value}
    if body.encoding:
        headers["Content-Encoding"] = body.encoding
    return headers


def _secret_free(exc: BaseException) -> str:
    """A ``SecretError`` says what failed without the value; of anything else, only its type."""
    return str(exc) if isinstance(exc, SecretError) else f"unexpected error ({type(exc).__name__})"


def _outcome(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.ACCEPTED
    if status in _PAYLOAD_FAULT:
        return Outcome.REJECTED
    # 401/403/404 mean misconfiguration: keeping the data beats losing it, so fail over.
    return Outcome.FAILED


def _status_message(content: bytes, content_type: str | None) -> str:
    """``: <message>`` of a google.rpc.Status body, if the backend sent one."""
    media = media_type_of(content_type)
    if not content or media is None:
        return ""
    status = decode_status(content, media)
    message = str(getattr(status, "message", "") or "")
    return f": {message[:500]}" if message else ""


def _bounded_content(response: urllib3.BaseHTTPResponse) -> tuple[bytes, bool]:
    """At most MAX_RESPONSE_BYTES of the answer, and whether that was all of it: the
    connection is reused only when the whole answer was read, so a hostile endless body
    cannot hold the pool."""
    try:
        content = response.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    except _BODY_ERRORS:
        return b"", False  # the status line already tells the outcome
    if len(content) > MAX_RESPONSE_BYTES:
        return content[:MAX_RESPONSE_BYTES], False
    return content, _finished(response)


def _finished(response: urllib3.BaseHTTPResponse) -> bool:
    try:
        return not response.read(1, decode_content=True)
    except _BODY_ERRORS:
        return False


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` asks for (RFC 9110: delay-seconds in ASCII digits, or an
    HTTP-date), at most MAX_RETRY_AFTER; None for anything else."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not str.isdigit alone: "²" passes it
        return float(min(int(value[:9]), MAX_RETRY_AFTER))
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:  # "-0000": the date is UTC
            moment = moment.replace(tzinfo=UTC)
        wait = moment.timestamp() - now()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, wait), float(MAX_RETRY_AFTER))


def _jitter(interval: float) -> float:
    return interval * random.uniform(0.5, 1.5)  # noqa: S311 - backoff jitter, not security


def _root_cause(exc: BaseException) -> str:
    """The innermost error's name (ConnectionRefusedError, RemoteDisconnected, ...)."""
    while True:
        inner = exc.__cause__ or next((a for a in exc.args if isinstance(a, BaseException)), None)
        if inner is None:
            return type(exc).__name__
        exc = inner
