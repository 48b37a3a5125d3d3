"""A gateway wired to the moto server and local backends, as the ingest Lambda builds it."""

from __future__ import annotations

import gzip as gzip_module
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otlp_failover.codec import MediaType, decode_status
from otlp_failover.gateway.ingest import IngestGateway
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import Settings
from otlp_failover_dev.local._payload import LambdaContext, build_event, http_reply

TOKEN = "functional-test-token"
# A probe run probes every RETRY_INTERVAL (30 s by default) until its level is back: a test
# that waits for a recovery asks for 1 s.
SHORT_PROBE_INTERVAL = {"RETRY_INTERVAL": "1s", "RETRY_GAP": "200ms"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def rpc_message(self) -> str:
        media = MediaType.PROTOBUF if "protobuf" in self.headers["content-type"] else MediaType.JSON
        status = decode_status(self.body, media)
        assert status is not None, f"not a google.rpc.Status body: {self.body[:200]!r}"
        return str(status.message)


class Gateway:
    """Drives ``IngestGateway.handle`` with payload-2.0 events, as API Gateway would."""

    def __init__(self, runtime: Runtime, gateway: IngestGateway) -> None:
        self.runtime = runtime
        self.gateway = gateway

    @classmethod
    def build(cls, env: Mapping[str, str]) -> Gateway:
        runtime = Runtime.build(Settings.from_environment(env))
        return cls(runtime, runtime.ingest_gateway())

    def send(
        self,
        path: str,
        body: bytes = b"",
        *,
        content_type: str | None = "application/x-protobuf",
        method: str = "POST",
        token: str | None = TOKEN,
        gzip: bool = False,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Reply:
        pairs = list((headers or {}).items())
        if content_type:
            pairs.append(("content-type", content_type))
        if token is not None:
            pairs.append(("authorization", f"Bearer {token}"))
        if gzip:
            body = gzip_module.compress(body)
            pairs.append(("content-encoding", "gzip"))
        event = build_event(method, path, pairs, body)
        return self.invoke(event, timeout)

    def invoke(self, event: dict[str, Any], timeout: float = 30.0) -> Reply:
        context = LambdaContext("ingest", "req-1", time.monotonic() + timeout)
        status, headers, body = http_reply(self.gateway.handle(event, context))
        return Reply(status, {k.lower(): v for k, v in headers}, body)
