"""The wire as the SDK exporters see it: every request they send, kept byte for byte.

The protobuf exporters take a ``session=`` (a ``requests.Session``); the JSON exporters have
no such parameter, and ``_transport=`` is their (underscored but typed) seam for the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from opentelemetry.exporter.http.transport._base import BaseHTTPResult, BaseHTTPTransport
from opentelemetry.exporter.http.transport._urllib3 import Urllib3HTTPTransport


@dataclass(frozen=True)
class Sent:
    url: str
    headers: dict[str, str]
    body: bytes  # as on the wire: gzipped when the exporter compresses


class RecordingSession(requests.Session):
    def __init__(self, sent: list[Sent]) -> None:
        super().__init__()
        self.sent = sent

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(
            Sent(str(url), dict(kwargs.get("headers") or {}), kwargs.get("data") or b"")
        )
        return super().request(method, url, *args, **kwargs)


class RecordingTransport(BaseHTTPTransport):
    def __init__(self, sent: list[Sent]) -> None:
        self.sent = sent
        self.inner = Urllib3HTTPTransport()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        data: bytes | None = None,
    ) -> BaseHTTPResult:
        self.sent.append(Sent(url, dict(headers or {}), data or b""))
        return self.inner.request(method, url, headers=headers, timeout=timeout, data=data)

    def is_connection_error(self, exception: Exception | None) -> bool:
        return self.inner.is_connection_error(exception)

    def close(self) -> None:
        self.inner.close()
