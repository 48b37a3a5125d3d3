"""Fuzzing the ingest handler: hostile bodies, headers, encodings and base64 flags.

Whatever arrives, the answer is a 2xx or a 4xx (never a 5xx, never an exception), a 4xx
changes nothing (no request reaches the primary, no object reaches the backup), and a 200
means the export was forwarded once. ``FUZZ_EXAMPLES`` sets the budget (``make fuzz``
raises it; CI runs the default). The seeds in seeds/ run first, every time.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.compressors import ENCODINGS as COMPRESSED
from tests.compressors import compress
from tests.functional.gateway import TOKEN, Gateway

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

TestFunc = TypeVar("TestFunc", bound=Callable[..., None])

SEEDS = Path(__file__).parent / "seeds"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
# The whole run is one pytest test: give it time in proportion to its budget.
pytestmark = pytest.mark.timeout(60 + EXAMPLES // 4)
PATHS = ["/v1/traces", "/v1/metrics", "/v1/logs", "/status", "/", "/v1/traces/", "/v1/profiles"]
CONTENT_TYPES = [
    "application/x-protobuf",
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/X-PROTOBUF",
    "application/json; charset=utf-16",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
]
ENCODINGS = [None, "identity", "br", "gzip, gzip", "x-gzip", "GZIP", " ZSTD ", "X-Snappy-Framed"]
ENCODINGS += [None, *COMPRESSED]


def valid_trace() -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="fuzz")
    span.trace_id, span.span_id = b"\x07" * 16, b"\x08" * 8
    return bytes(request.SerializeToString())


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["random", "mutated", "json", "gzip", "truncated", "compressed"]))
    if kind == "random":
        return draw(st.binary(max_size=2048))
    if kind == "mutated":
        data = bytearray(valid_trace())
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "json":
        value = draw(
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                lambda inner: (
                    st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4)
                ),
                max_leaves=30,
            )
        )
        return json.dumps({"resourceSpans": value}).encode()
    if kind == "gzip":
        return gzip.compress(draw(st.binary(max_size=512)))
    if kind == "compressed":
        return compressed_body(draw, draw(st.sampled_from(COMPRESSED)))
    compressed = zlib.compress(valid_trace())
    return compressed[: draw(st.integers(0, len(compressed)))]


def compressed_body(draw: st.DrawFn, encoding: str) -> bytes:
    """A valid export or random bytes under ``encoding``, then maybe cut or altered."""
    payload = draw(st.sampled_from([valid_trace(), b""]) | st.binary(max_size=512))
    data = bytearray(compress(encoding, payload))
    data = data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data
    if data and draw(st.booleans()):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def seed_examples() -> list[dict[str, Any]]:
    manifest = json.loads((SEEDS / "manifest.json").read_text())
    return [
        {"name": name, "body": (SEEDS / name).read_bytes(), **entry}
        for name, entry in sorted(manifest.items())
    ]


def request_event(
    path: str, method: str, headers: dict[str, str], body: bytes, flagged: bool
) -> dict[str, Any]:
    if flagged and body and not headers.pop("x-fuzz-lying-base64", None):
        wire = base64.b64encode(body).decode()
    else:
        wire = body.decode("utf-8", "surrogateescape")
    return {
        "version": "2.0",
        "rawPath": path,
        "requestContext": {"http": {"method": method}, "requestId": "fuzz"},
        "headers": {"authorization": f"Bearer {TOKEN}", **headers},
        "body": wire,
        "isBase64Encoded": flagged,
    }


@functools.cache
def s3_client(aws: AwsEmulator) -> S3Client:
    return aws.s3()


def backup_objects(aws: AwsEmulator, bucket: str) -> int:
    return int(s3_client(aws).list_objects_v2(Bucket=bucket).get("KeyCount", 0))


def check_invariants(
    gateway: Gateway, backend: OtlpBackend, aws: AwsEmulator, bucket: str, event: dict[str, Any]
) -> None:
    seen, stored = backend.requests_seen, backup_objects(aws, bucket)
    reply = gateway.invoke(event)
    assert reply.status < 500, (reply.status, reply.body[:200])
    forwarded = backend.requests_seen - seen
    written = backup_objects(aws, bucket) - stored
    if reply.status >= 400:
        assert reply.rpc_message(), "a 4xx carries a google.rpc.Status saying why"
        assert (forwarded, written) == (0, 0), "a refused request changed something"
    elif event["rawPath"].rstrip("/").startswith("/v1/"):
        assert forwarded + written == 1


def with_seeds(test: TestFunc) -> TestFunc:
    for seed in seed_examples():
        headers = dict(seed["headers"])
        if seed["name"] == "lying-base64.txt":
            headers["x-fuzz-lying-base64"] = "1"
        test = example(
            path="/v1/traces",
            method="POST",
            headers=headers,
            body=seed["body"],
            flagged=seed["isBase64Encoded"],
        )(test)
    return test


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    path=st.sampled_from(PATHS) | st.text(max_size=30).map(lambda s: "/" + s),
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]),
    headers=st.fixed_dictionaries(
        {},
        optional={
            "content-type": st.sampled_from(CONTENT_TYPES) | st.text(max_size=40),
            "content-encoding": st.sampled_from([e for e in ENCODINGS if e]) | st.text(max_size=10),
            "x-fuzz-lying-base64": st.just("1"),
        },
    ),
    body=bodies(),
    flagged=st.booleans(),
)
@with_seeds
def test_hostile_requests_get_a_4xx_and_change_nothing(
    gateway: Gateway,
    backend: OtlpBackend,
    aws: AwsEmulator,
    chain_env: dict[str, str],
    path: str,
    method: str,
    headers: dict[str, str],
    body: bytes,
    flagged: bool,
) -> None:
    event = request_event(path, method, dict(headers), body, flagged)
    check_invariants(gateway, backend, aws, chain_env["BACKUP_BUCKET"], event)


@settings(
    max_examples=max(EXAMPLES // 3, 20), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(body=bodies(), encoding=st.sampled_from(ENCODINGS))
def test_with_the_primary_down_hostile_bodies_never_reach_the_backup(
    gateway: Gateway,
    backend: OtlpBackend,
    aws: AwsEmulator,
    chain_env: dict[str, str],
    body: bytes,
    encoding: str | None,
) -> None:
    backend.set_mode("refuse")
    headers = {"content-type": "application/x-protobuf"}
    if encoding:
        headers["content-encoding"] = encoding
    event = request_event("/v1/traces", "POST", headers, body, flagged=True)
    check_invariants(gateway, backend, aws, chain_env["BACKUP_BUCKET"], event)


@st.composite
def compressed_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    encoding = draw(st.sampled_from(COMPRESSED))
    return encoding, compressed_body(draw, encoding)


@settings(
    max_examples=max(EXAMPLES // 3, 20), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(request=compressed_requests(), healthy=st.booleans())
def test_bodies_under_each_encoding_they_claim_get_a_2xx_or_4xx_and_change_nothing_if_4xx(
    gateway: Gateway,
    backend: OtlpBackend,
    aws: AwsEmulator,
    chain_env: dict[str, str],
    request: tuple[str, bytes],
    healthy: bool,
) -> None:
    """The header matches the body's coding, so each decoder meets its own format: valid,
    cut short or altered; with the primary up or down (the backup then takes a 200)."""
    encoding, body = request
    backend.set_mode("healthy" if healthy else "refuse")
    headers = {"content-type": "application/x-protobuf", "content-encoding": encoding}
    event = request_event("/v1/traces", "POST", headers, body, flagged=True)
    check_invariants(gateway, backend, aws, chain_env["BACKUP_BUCKET"], event)
