"""Secrets Manager reads: backend headers and ingest tokens. Values never reach logs or errors.

Each secret is cached per instance for the reader's ``ttl``, and its last good value is
served while Secrets Manager fails (``secret_cache.py``). Nothing is read at cold start: a
secret is read when first needed, so a secret that cannot be read fails only what needs it.

Not Powertools Parameters: its ``SecretsProvider`` caches with ``max_age`` and
``force_fetch``, but raises once an entry has expired and the read fails (no last good
value), puts the whole AWS message in its error (the role's and the secret's ARNs), ages
entries by the wall clock (no clock to inject in tests), and its import adds 25-35 ms to
the ingest's cold start on the development machine.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from otlp_failover.aws.errors import AWS_ERRORS, error_code
from otlp_failover.aws.secret_cache import CachedSecret
from otlp_failover.errors import SecretError
from otlp_failover.settings.environment import DEFAULT_HEADERS_CACHE_TTL

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

T = TypeVar("T")


class SecretReader:
    """Reads secrets by id; each parsed value is cached for ``ttl`` seconds."""

    def __init__(
        self,
        client: SecretsManagerClient,
        ttl: float = DEFAULT_HEADERS_CACHE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.ttl = ttl
        self._clock = clock
        self._cached: dict[tuple[str, str], CachedSecret[Any]] = {}
        self._lock = threading.Lock()

    def text(self, secret_id: str) -> str:
        """One read, uncached."""
        try:
            value = self._client.get_secret_value(SecretId=secret_id).get("SecretString")
        except AWS_ERRORS as exc:
            raise SecretError(
                f"reading secret {short_name(secret_id)} failed: {error_code(exc)}"
            ) from None
        if not isinstance(value, str):
            raise SecretError(f"secret {short_name(secret_id)} has no string value")
        return value

    def headers(self, secret_id: str, *, force: bool = False) -> dict[str, str]:
        """A backend's headers: the secret is a JSON object of header name -> value.
        ``force`` reads it again now, TTL or not (the backend refused the cached ones)."""
        return dict(self._secret(secret_id, "headers", parse_headers).get(force=force))

    def header_source(self, secret_id: str) -> SecretHeaders:
        """The headers of one exporter, read when first needed and kept current."""
        return SecretHeaders(self, secret_id)

    def tokens(self, secret_id: str) -> tuple[str, ...]:
        """Ingest tokens: {"token": "..."}, {"tokens": [...]} (rotation) or the bare string."""
        return self._secret(secret_id, "tokens", parse_tokens).get()

    def _secret(self, secret_id: str, kind: str, parse: Callable[[str, str], T]) -> CachedSecret[T]:
        with self._lock:
            cached = self._cached.get((secret_id, kind))
            if cached is None:
                cached = CachedSecret(
                    short_name(secret_id),
                    lambda: parse(self.text(secret_id), secret_id),
                    self.ttl,
                    self._clock,
                )
                self._cached[(secret_id, kind)] = cached
            return cached


class SecretHeaders:
    """A ``HeaderSource`` (exporters/headers.py) over one headers secret."""

    def __init__(self, reader: SecretReader, secret_id: str) -> None:
        self._reader = reader
        self._secret_id = secret_id

    def current(self) -> Mapping[str, str]:
        return self._reader.headers(self._secret_id)

    def refresh(self, refused: Mapping[str, str]) -> bool:
        """Read the secret again now; True when it holds other headers than ``refused``."""
        try:
            return self._reader.headers(self._secret_id, force=True) != dict(refused)
        except SecretError:
            return False  # nothing better to offer: the refusal stands


# What an HTTP header may not hold: a value with a line break would make http.client raise
# an error that quotes it, and a stray newline is common in values pasted with echo.
_BAD_HEADER_TEXT = re.compile(r"[\r\n\x00]")


def parse_headers(text: str, secret_id: str) -> dict[str, str]:
    value = _json(text, secret_id)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SecretError(
            f"secret {short_name(secret_id)} must be a JSON object of header names to strings"
        )
    for name, header in value.items():
        if not name.strip() or _BAD_HEADER_TEXT.search(name) or _BAD_HEADER_TEXT.search(header):
            # Names the header, never its value.
            raise SecretError(
                f"secret {short_name(secret_id)}: header {name.strip()[:64]!r} holds a line "
                "break or NUL (or has no name); remove it"
            )
    return value


def parse_tokens(text: str, secret_id: str) -> tuple[str, ...]:
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    if isinstance(value, dict):
        listed = value.get("tokens")
        # A list of strings only: a string here would count each of its characters.
        found = [value.get("token"), *(listed if isinstance(listed, list) else [])]
    else:
        found = [text if isinstance(value, int | float) else value]  # a bare number is text
    tokens = tuple(t.strip() for t in found if isinstance(t, str) and t.strip())
    if not tokens:
        raise SecretError(f"secret {short_name(secret_id)} holds no ingest token")
    return tokens


def _json(text: str, secret_id: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise SecretError(f"secret {short_name(secret_id)} is not valid JSON") from None


def short_name(secret_id: str) -> str:
    """The secret's name without the account-bearing ARN prefix."""
    return secret_id.rsplit(":", 1)[-1] if secret_id.startswith("arn:") else secret_id
