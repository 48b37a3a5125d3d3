"""OtlpHttpExporter and Content-Encoding: the client's bytes go out as they came; a backend
that answers 415 to their encoding gets the request gzip-compressed (or uncompressed if
gzip is what it refuses), and the exporter remembers what it refused."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Any, cast

import urllib3

from otlp_failover.codec import ExportBody, MediaType, decode_json, encode_json
from otlp_failover.exporters.otlphttp import OtlpHttpExporter
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.settings.chain import OtlpHttpConfig, RetryConfig
from otlp_failover.signals import Signal
from tests.compressors import compress
from tests.unit.exporters.test_otlphttp_retry import REQUEST, FakeResponse
from tests.unit.fakes import ManualClock

IDENTITY = "identity"


@dataclass
class EncodingPicky:
    """A backend answering 415 to the Content-Encodings in ``refuses`` (``identity`` for
    none) and ``status`` to everything else; it records every request."""

    refuses: set[str]
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        self.requests.append(kwargs)
        refused = self.encodings()[-1] in self.refuses
        return FakeResponse(415 if refused else self.status)

    def encodings(self) -> list[str]:
        return [r["headers"].get("Content-Encoding", IDENTITY) for r in self.requests]

    def clear(self) -> None:
        pass


def exporter(backend: EncodingPicky, budget: float = 2.0) -> OtlpHttpExporter:
    clock = ManualClock()
    config = OtlpHttpConfig(
        name="otlphttp/primary",
        endpoint="https://otlp.example.com/",
        retry=RetryConfig(max_elapsed_time=budget),
    )
    pool = cast(urllib3.PoolManager, backend)
    return OtlpHttpExporter(config, pool, {}, clock=clock, sleep=clock.sleep)


def body(encoding: str | None, media: MediaType = MediaType.PROTOBUF) -> ExportBody:
    payload = encode_json(REQUEST) if media is MediaType.JSON else REQUEST.SerializeToString()
    return ExportBody(Signal.TRACES, media, encoding, REQUEST, compress(encoding, payload))


def send(client: OtlpHttpExporter, encoding: str | None) -> ExportResult:
    return client.export(body(encoding), deadline=30.0)


def test_an_encoding_the_backend_takes_goes_out_as_the_client_sent_it() -> None:
    backend = EncodingPicky(refuses=set())
    sent = body("zstd")
    assert exporter(backend).export(sent, 30.0).outcome is Outcome.ACCEPTED
    assert backend.encodings() == ["zstd"]
    assert backend.requests[0]["body"] is sent.raw


def test_a_refused_encoding_is_sent_again_gzipped_and_remembered() -> None:
    backend = EncodingPicky(refuses={"zstd"})
    client = exporter(backend)
    result = send(client, "zstd")
    assert (result.outcome, result.status, result.attempts) == (Outcome.ACCEPTED, 200, 2)
    assert backend.encodings() == ["zstd", "gzip"]
    resent = backend.requests[1]
    assert REQUEST.FromString(gzip.decompress(resent["body"])) == REQUEST
    assert resent["headers"]["Content-Type"] == "application/x-protobuf"
    assert client.refused_encodings == {"zstd"}
    # From now on at once, without asking again; other encodings still go as they came.
    assert send(client, "zstd").attempts == 1
    assert send(client, "lz4").accepted
    assert backend.encodings()[2:] == ["gzip", "lz4"]


def test_when_gzip_is_refused_too_the_body_goes_uncompressed() -> None:
    backend = EncodingPicky(refuses={"gzip", "zstd"})
    client = exporter(backend)
    assert send(client, "zstd").accepted
    assert backend.encodings() == ["zstd", "gzip", IDENTITY]
    assert backend.requests[2]["body"] == REQUEST.SerializeToString()
    assert client.refused_encodings == {"zstd", "gzip"}
    for encoding in ("zstd", "gzip", "snappy"):
        assert send(client, encoding).accepted
    assert backend.encodings()[3:] == [IDENTITY, IDENTITY, "snappy"]


def test_a_415_to_every_encoding_is_about_something_else_and_nothing_is_remembered() -> None:
    backend = EncodingPicky(refuses={"zstd", "gzip", IDENTITY})
    client = exporter(backend)
    result = send(client, "zstd")
    assert (result.outcome, result.status) == (Outcome.FAILED, 415)
    assert backend.encodings() == ["zstd", "gzip", IDENTITY]
    assert client.refused_encodings == set()


def test_an_uncompressed_body_answered_415_is_not_sent_again() -> None:
    backend = EncodingPicky(refuses={IDENTITY})
    result = send(exporter(backend), None)
    assert (result.status, backend.encodings()) == (415, [IDENTITY])


def test_a_refusal_is_remembered_only_once_the_backend_took_the_other_body() -> None:
    backend = EncodingPicky(refuses={"lz4"}, status=503)
    client = exporter(backend)
    result = send(client, "lz4")
    assert (result.outcome, result.status) == (Outcome.FAILED, 503)
    assert backend.encodings()[:2] == ["lz4", "gzip"]
    assert set(backend.encodings()[1:]) == {"gzip"}  # the retries send the re-encoded body
    assert client.refused_encodings == set()  # a 503 says nothing about the encoding
    backend.status = 200
    assert send(client, "lz4").accepted
    assert client.refused_encodings == {"lz4"}


def test_a_json_body_is_re_encoded_as_otlp_json() -> None:
    backend = EncodingPicky(refuses={"snappy"})
    assert exporter(backend).export(body("snappy", MediaType.JSON), 30.0).accepted
    resent = backend.requests[1]
    assert resent["headers"]["Content-Type"] == "application/json"
    assert decode_json(Signal.TRACES, gzip.decompress(resent["body"])) == REQUEST


def test_each_exporter_remembers_its_own_backend() -> None:
    picky, easy = EncodingPicky(refuses={"zstd"}), EncodingPicky(refuses=set())
    first, second = exporter(picky), exporter(easy)
    send(first, "zstd")
    send(second, "zstd")
    assert (first.refused_encodings, second.refused_encodings) == ({"zstd"}, set())
    assert easy.encodings() == ["zstd"]
