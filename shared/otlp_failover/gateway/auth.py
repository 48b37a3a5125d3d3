"""Who may call the ingest API: bearer tokens (default) or IAM, checked by API Gateway."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Protocol

from otlp_failover.errors import UnauthorizedError
from otlp_failover.gateway.event import HttpRequest


class Authenticator(Protocol):
    def check(self, request: HttpRequest) -> None:
        """Return if the caller may send; raise ``UnauthorizedError`` otherwise."""


class TokenAuthenticator:
    """Constant-time check against every valid token (several during a rotation).

    ``tokens`` is called per request and caches, so a rotation needs no redeploy.
    """

    def __init__(self, tokens: Callable[[], tuple[str, ...]]) -> None:
        self._tokens = tokens

    def check(self, request: HttpRequest) -> None:
        presented = _bearer(request.headers.get("authorization", ""))
        if presented is None:
            raise UnauthorizedError("missing bearer token (Authorization: Bearer <token>)")
        matched = False
        for token in self._tokens():
            # No early exit: the time taken does not tell which token, if any, matched.
            matched |= hmac.compare_digest(presented.encode(), token.encode())
        if not matched:
            raise UnauthorizedError("invalid bearer token")


class IamAuthenticator:
    """API Gateway verified the SigV4 signature; the event must say who signed."""

    def check(self, request: HttpRequest) -> None:
        if not request.iam_caller:
            raise UnauthorizedError("IAM authorization expected but the request carries none")


def _bearer(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
