"""Every Content-Encoding a collector's otlphttp exporter sends, through the ingest handler:
forwarded as it came, its bomb a 413, its corruption a 400, backed up as OTLP/JSON like
any other body, and re-encoded for a primary that answers 415 to it."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.codec import decode_json
from otlp_failover.settings import environment as settings
from otlp_failover.signals import Signal
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.compressors import ENCODINGS, compress, zeros_bomb
from tests.functional.gateway import Gateway, Reply
from tests.functional.test_ingest import backup_lines, spans

# Over the default 20 MiB cap, and small enough compressed to pass the 4.5 MiB body limit.
BOMB_MIB = 40


def send(gateway: Gateway, encoding: str, body: bytes) -> Reply:
    return gateway.send("/v1/traces", body, headers={"content-encoding": encoding})


@pytest.fixture
def backed_up(aws: AwsEmulator, chain_env: dict[str, str]) -> Callable[[], list[bytes]]:
    """The traces lines in the chain's backup bucket, read when called."""
    return lambda: backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_reaches_the_primary_as_it_was_sent(
    gateway: Gateway, backend: OtlpBackend, encoding: str
) -> None:
    raw = compress(encoding, spans(3).SerializeToString())
    assert send(gateway, encoding, raw).status == 200
    (received,) = backend.exports
    assert (received.content_encoding, received.body) == (encoding, raw)
    assert received.message == spans(3)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encodings_bomb_is_413_and_reaches_nothing(
    gateway: Gateway,
    backend: OtlpBackend,
    backed_up: Callable[[], list[bytes]],
    encoding: str,
) -> None:
    reply = send(gateway, encoding, zeros_bomb(encoding, BOMB_MIB))
    assert reply.status == 413
    assert "decompresses to more than the limit" in reply.rpc_message()
    assert backend.requests_seen == 0
    assert backed_up() == []


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encodings_truncated_body_is_400(
    gateway: Gateway, backend: OtlpBackend, encoding: str
) -> None:
    raw = compress(encoding, spans(50).SerializeToString())
    reply = send(gateway, encoding, raw[: len(raw) - 3])
    assert reply.status == 400
    assert backend.requests_seen == 0


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_with_the_primary_down_each_encoding_is_backed_up_as_otlp_json(
    gateway: Gateway,
    backend: OtlpBackend,
    backed_up: Callable[[], list[bytes]],
    encoding: str,
) -> None:
    backend.set_mode("refuse")
    assert send(gateway, encoding, compress(encoding, spans(2).SerializeToString())).status == 200
    (line,) = backed_up()
    assert decode_json(Signal.TRACES, line) == spans(2)


class PickyPrimary(ThreadingHTTPServer):
    """An OTLP/HTTP receiver that answers 415 to one Content-Encoding and takes the rest
    (decompressing gzip itself, as a receiver does); it records what each request came as."""

    daemon_threads = True

    def __init__(self, refused: str) -> None:
        super().__init__(("127.0.0.1", 0), _PickyHandler)
        self.refused = refused
        self.received: list[tuple[str, ExportTraceServiceRequest | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _PickyHandler(BaseHTTPRequestHandler):
    server: PickyPrimary

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "identity")
        if encoding == self.server.refused:
            self.server.received.append((encoding, None))
            return self._answer(415)
        payload = gzip.decompress(body) if encoding == "gzip" else body
        self.server.received.append((encoding, ExportTraceServiceRequest.FromString(payload)))
        return self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows what the test asserts


@pytest.fixture
def zstd_refusing_primary() -> Iterator[PickyPrimary]:
    server = PickyPrimary(refused="zstd")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_primary_refusing_zstd_gets_it_gzipped_from_the_first_415_on(
    chain_env: dict[str, str], zstd_refusing_primary: PickyPrimary
) -> None:
    gateway = Gateway.build({**chain_env, settings.PRIMARY_ENDPOINT: zstd_refusing_primary.url})
    for count in (1, 2):
        raw = compress("zstd", spans(count).SerializeToString())
        assert send(gateway, "zstd", raw).status == 200
    assert zstd_refusing_primary.received == [
        ("zstd", None),
        ("gzip", spans(1)),
        ("gzip", spans(2)),  # remembered: no second 415
    ]
    status = json.loads(gateway.send("/status", method="GET", content_type=None).body)
    assert status["signals"]["traces"]["failures"] == 0  # the 415 cost the level nothing
