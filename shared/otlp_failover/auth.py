"""Bearer-token check for the ingest API, constant-time against every valid token."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from otlp_failover.errors import UnauthorizedError


class TokenAuthenticator:
    """``tokens`` is called per request; it caches, so rotation needs no redeploy."""

    def __init__(self, tokens: Callable[[], tuple[str, ...]]) -> None:
        self._tokens = tokens

    def check(self, headers: Mapping[str, str]) -> None:
        presented = _bearer(headers.get("authorization", ""))
        if presented is None:
            raise UnauthorizedError("missing bearer token (Authorization: Bearer <token>)")
        matched = False
        for token in self._tokens():
            # No early exit: the time taken does not tell which token, if any, matched.
            matched |= hmac.compare_digest(presented.encode(), token.encode())
        if not matched:
            raise UnauthorizedError("invalid bearer token")


def _bearer(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
