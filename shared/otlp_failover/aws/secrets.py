"""Secrets Manager reads: backend headers and ingest tokens. Values never reach logs or errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from otlp_failover.aws.errors import AWS_ERRORS, error_code
from otlp_failover.errors import SecretError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


class SecretReader:
    """Reads secrets by id and caches each for ``ttl`` seconds (rotation shows up within it)."""

    def __init__(
        self,
        client: SecretsManagerClient,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def text(self, secret_id: str) -> str:
        cached = self._cache.get(secret_id)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            value = self._client.get_secret_value(SecretId=secret_id).get("SecretString")
        except AWS_ERRORS as exc:
            raise SecretError(
                f"reading secret {_short(secret_id)} failed: {error_code(exc)}"
            ) from None
        if not isinstance(value, str):
            raise SecretError(f"secret {_short(secret_id)} has no string value")
        self._cache[secret_id] = (self._clock(), value)
        return value

    def json(self, secret_id: str) -> Any:
        try:
            return orjson.loads(self.text(secret_id))
        except orjson.JSONDecodeError:
            raise SecretError(f"secret {_short(secret_id)} is not valid JSON") from None

    def headers(self, secret_id: str) -> dict[str, str]:
        """A backend's headers: the secret is a JSON object of header name -> value."""
        value = self.json(secret_id)
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise SecretError(
                f"secret {_short(secret_id)} must be a JSON object of header names to strings"
            )
        return dict(value)

    def tokens(self, secret_id: str) -> tuple[str, ...]:
        """Ingest tokens: {"token": "..."}, {"tokens": [...]} (rotation) or the bare string."""
        text = self.text(secret_id)
        try:
            value: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = text
        if isinstance(value, dict):
            found = [value.get("token"), *(value.get("tokens") or [])]
        else:
            found = [value]
        tokens = tuple(t for t in found if isinstance(t, str) and t)
        if not tokens:
            raise SecretError(f"secret {_short(secret_id)} holds no ingest token")
        return tokens


def _short(secret_id: str) -> str:
    """The secret's name without the account-bearing ARN prefix."""
    return secret_id.rsplit(":", 1)[-1] if secret_id.startswith("arn:") else secret_id
