"""The ingest handler against the moto server and a real local primary that fails on command."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otlp_failover.aws.dynamodb_state import DynamoDBStateStore
from otlp_failover.codec import decode_json, encode_json
from otlp_failover.signals import Signal
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.gateway import Gateway


def spans(count: int = 2, name: str = "checkout") -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(count):
        span = scope.spans.add(name=f"{name}-{i}", trace_id=bytes(range(16)), span_id=bytes(8))
        span.span_id = i.to_bytes(8, "big")
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + i
    return request


def backup_lines(aws: AwsEmulator, bucket: str, signal: Signal) -> list[bytes]:
    s3 = aws.s3()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    lines: list[bytes] = []
    for key in sorted(keys):
        assert key.startswith(f"backup/{signal.value}/"), key
        lines += s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    return lines


def test_healthy_export_reaches_the_primary_byte_for_byte(
    gateway: Gateway, backend: OtlpBackend
) -> None:
    body = spans().SerializeToString()
    reply = gateway.send("/v1/traces", body, headers={"x-client": "sdk"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse.FromString(reply.body)
    (received,) = backend.exports
    assert received.body == body
    assert "authorization" not in {k.lower() for k in received.headers}


def test_gzip_bodies_are_forwarded_still_gzipped(gateway: Gateway, backend: OtlpBackend) -> None:
    reply = gateway.send("/v1/traces", spans().SerializeToString(), gzip=True)
    assert reply.status == 200
    (received,) = backend.exports
    assert received.content_encoding == "gzip"
    assert ExportTraceServiceRequest.FromString(gzip.decompress(received.body)) == spans()


def test_json_exports_get_json_answers(gateway: Gateway, backend: OtlpBackend) -> None:
    reply = gateway.send("/v1/logs", b'{"resourceLogs": []}', content_type="application/json")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.body) == {}
    assert backend.exports[0].content_type.startswith("application/json")


def test_primary_partial_success_is_passed_through(gateway: Gateway, backend: OtlpBackend) -> None:
    backend.set_mode("healthy", partial_rejected=1, partial_message="one span dropped")
    reply = gateway.send("/v1/traces", spans().SerializeToString())
    response = ExportTraceServiceResponse.FromString(reply.body)
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message == "one span dropped"


def test_healthy_path_writes_nothing_to_dynamodb(gateway: Gateway, aws: AwsEmulator) -> None:
    calls: list[str] = []
    store = gateway.runtime.store
    assert isinstance(store, DynamoDBStateStore)
    client = store._client  # the instance's own client, as in Lambda
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    for _ in range(20):
        assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
    assert calls == ["GetItem"]


def test_primary_down_every_export_acknowledged_and_backed_up_as_otlp_json(
    gateway: Gateway, backend: OtlpBackend, aws: AwsEmulator, chain_env: dict[str, str]
) -> None:
    backend.set_mode("refuse")
    sent = [spans(3, name=f"batch{i}") for i in range(5)]
    for request in sent:
        assert gateway.send("/v1/traces", request.SerializeToString()).status == 200
    lines = backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES)
    assert sorted(decode_json(Signal.TRACES, line).SerializeToString() for line in lines) == sorted(
        r.SerializeToString() for r in sent
    )
    assert all(b'"traceId":"000102030405060708090a0b0c0d0e0f"' in line for line in lines)
    assert backend.accepted_exports == 0


def test_level_moves_after_max_retries_for_that_signal_only(
    gateway: Gateway, backend: OtlpBackend
) -> None:
    backend.set_mode("status", status=503)
    for expected_level in (0, 0, 1, 1):
        assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
        status = json.loads(gateway.send("/status", method="GET", content_type=None).body)
        assert status["signals"]["traces"]["level"] == expected_level
    assert status["signals"]["metrics"]["level"] == 0
    assert status["signals"]["logs"]["level"] == 0
    assert status["backlog"]["traces"]["objects"] == 4


def test_once_failed_over_the_primary_is_not_tried(gateway: Gateway, backend: OtlpBackend) -> None:
    backend.set_mode("refuse")
    for _ in range(3):
        gateway.send("/v1/traces", spans().SerializeToString())
    backend.set_mode("healthy")
    seen = backend.requests_seen
    assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
    assert backend.requests_seen == seen


@pytest.mark.parametrize(
    "mode",
    [
        {"mode": "status", "status": 500},
        {"mode": "status", "status": 401},
        {"mode": "status", "status": 404},
        {"mode": "throttle", "retry_after": 60},
        {"mode": "reset"},
        {"mode": "hang"},
    ],
    ids=lambda m: f"{m['mode']}-{m.get('status', '')}",
)
def test_a_level_failure_is_absorbed_by_the_backup(
    gateway: Gateway,
    backend: OtlpBackend,
    aws: AwsEmulator,
    chain_env: dict[str, str],
    mode: dict[str, Any],
) -> None:
    backend.set_mode(**mode)
    reply = gateway.send("/v1/logs", ExportLogsServiceRequest().SerializeToString())
    assert reply.status == 200
    assert len(backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.LOGS)) == 1


def test_a_400_from_the_primary_goes_back_to_the_client_and_counts_for_nothing(
    gateway: Gateway, backend: OtlpBackend, aws: AwsEmulator, chain_env: dict[str, str]
) -> None:
    backend.set_mode("status", status=400)
    for _ in range(4):
        reply = gateway.send("/v1/traces", spans().SerializeToString())
        assert reply.status == 400
    status = json.loads(gateway.send("/status", method="GET", content_type=None).body)
    assert status["signals"]["traces"] == {**status["signals"]["traces"], "level": 0, "failures": 0}
    assert backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES) == []


def test_every_level_failing_is_a_503_with_retry_after(
    chain_env: dict[str, str], backend: OtlpBackend
) -> None:
    gateway = Gateway.build({**chain_env, "BACKUP_BUCKET": "no-such-bucket"})
    backend.set_mode("refuse")
    reply = gateway.send("/v1/traces", spans().SerializeToString())
    assert reply.status == 503
    assert int(reply.headers["retry-after"]) > 0
    assert "every level failed" in reply.rpc_message()


BAD_REQUESTS = [
    ("random bytes", {"body": b"\xff\xfe\x00garbage"}, 400),
    ("invalid JSON", {"body": b"{nope", "content_type": "application/json"}, 400),
    ("wrong content type", {"body": b"x", "content_type": "text/plain"}, 415),
    ("corrupt gzip", {"body": b"\x1f\x8bnot gzip", "headers": {"content-encoding": "gzip"}}, 400),
    ("unknown encoding", {"body": b"x", "headers": {"content-encoding": "br"}}, 415),
    ("unknown path", {"body": b"", "path": "/v1/profiles"}, 404),
    ("7 MB body", {"body": b"\0" * (7 * 1024 * 1024)}, 413),
    ("gzip bomb", {"body": gzip.compress(b"\0" * (64 * 1024 * 1024)), "bomb": True}, 413),
    ("no token", {"body": b"", "token": None}, 401),
    ("wrong token", {"body": b"", "token": "guess"}, 401),
    ("GET on an export path", {"body": b"", "method": "GET"}, 405),
]


@pytest.mark.parametrize(
    ("case", "request_", "status"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS]
)
def test_bad_requests_get_their_4xx_and_reach_neither_primary_nor_backup(
    gateway: Gateway,
    backend: OtlpBackend,
    aws: AwsEmulator,
    chain_env: dict[str, str],
    case: str,
    request_: dict[str, Any],
    status: int,
) -> None:
    request_ = dict(request_)
    headers = dict(request_.pop("headers", {}))
    if request_.pop("bomb", False):
        headers["content-encoding"] = "gzip"
    reply = gateway.send(request_.pop("path", "/v1/traces"), headers=headers, **request_)
    assert reply.status == status, reply.body
    assert reply.rpc_message()  # a google.rpc.Status body that says why
    assert backend.requests_seen == 0
    assert backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES) == []


def test_error_bodies_use_the_requests_media_type(gateway: Gateway) -> None:
    as_json = gateway.send("/v1/traces", b"{nope", content_type="application/json")
    assert as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.body)["code"] == 3
    as_proto = gateway.send("/v1/traces", b"\xff\xfe")
    assert as_proto.headers["content-type"] == "application/x-protobuf"


def test_a_body_flagged_base64_that_is_not_is_a_400(gateway: Gateway) -> None:
    event = {
        "rawPath": "/v1/traces",
        "requestContext": {"http": {"method": "POST"}},
        "headers": {"content-type": "application/x-protobuf", "authorization": "Bearer x"},
        "body": "not base64!",
        "isBase64Encoded": True,
    }
    assert gateway.invoke(event).status == 400


def test_status_reports_levels_failures_and_backlog(gateway: Gateway) -> None:
    reply = gateway.send("/status", method="GET", content_type=None)
    assert reply.status == 200
    document = json.loads(reply.body)
    for signal in Signal:
        assert document["signals"][signal.value]["level"] == 0
        assert document["signals"][signal.value]["failures"] == 0
        assert document["backlog"][signal.value]["objects"] == 0
    assert [level["name"] for level in document["levels"]] == ["otlphttp/primary", "s3/backup"]


def test_status_needs_the_token(gateway: Gateway) -> None:
    assert gateway.send("/status", method="GET", token=None).status == 401


def test_the_json_line_replays_as_the_same_request() -> None:
    request = spans(4)
    line = encode_json(request)
    assert b"\n" not in line
    assert decode_json(Signal.TRACES, line) == request
    assert base64.b64encode(request.resource_spans[0].scope_spans[0].spans[0].trace_id) not in line


def test_a_protobuf_span_with_a_short_trace_id_is_a_400_on_every_level(
    gateway: Gateway, backend: OtlpBackend, aws: AwsEmulator, chain_env: dict[str, str]
) -> None:
    request = spans(1)
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\x01" * 5
    for mode in ("healthy", "refuse"):  # the primary refuses it; so does the backup
        backend.set_mode(mode)
        reply = gateway.send("/v1/traces", request.SerializeToString())
        assert reply.status == 400
        assert "trace" in reply.rpc_message().lower()
        if mode == "healthy":  # the payload's fault counts for nothing
            status = json.loads(gateway.send("/status", method="GET", content_type=None).body)
            assert status["signals"]["traces"]["failures"] == 0
    assert backend.accepted_exports == 0
    assert backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES) == []


def test_every_token_in_the_secret_is_valid_during_a_rotation(
    chain_env: dict[str, str], aws: AwsEmulator
) -> None:
    secret = aws.create_token_secret("rotating-token", ["old-token", "new-token"])
    gateway = Gateway.build({**chain_env, "INGEST_TOKEN_SECRET": secret})
    for token in ("old-token", "new-token"):
        assert gateway.send("/v1/traces", token=token).status == 200
    assert gateway.send("/v1/traces", token="older-token").status == 401


def test_iam_mode_accepts_only_requests_api_gateway_signed_off(chain_env: dict[str, str]) -> None:
    env = {k: v for k, v in chain_env.items() if k != "INGEST_TOKEN_SECRET"}
    gateway = Gateway.build({**env, "AUTH_MODE": "iam"})
    event: dict[str, Any] = {
        "rawPath": "/v1/traces",
        "requestContext": {"http": {"method": "POST"}},
        "headers": {"content-type": "application/x-protobuf"},
        "body": "",
    }
    assert gateway.invoke(event).status == 401
    signed = {"iam": {"userArn": "arn:aws:iam::123456789012:role/collector"}}
    event["requestContext"] = {**event["requestContext"], "authorizer": signed}
    assert gateway.invoke(event).status == 200


def test_with_dynamodb_unreachable_exports_still_fall_through_and_are_kept(
    chain_env: dict[str, str], backend: OtlpBackend, aws: AwsEmulator
) -> None:
    gateway = Gateway.build({**chain_env, "STATE_TABLE": "no-such-table"})
    assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
    backend.set_mode("refuse")
    for _ in range(5):
        assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
    assert backend.accepted_exports == 1
    assert len(backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES)) == 5


def test_a_secondary_refusing_a_payload_the_primary_would_take_passes_it_to_the_backup(
    chain_env: dict[str, str],
    backend: OtlpBackend,
    backend_factory: Callable[..., OtlpBackend],
    aws: AwsEmulator,
) -> None:
    secondary = backend_factory()
    gateway = Gateway.build({**chain_env, "SECONDARY_ENDPOINT": secondary.url})
    backend.set_mode("refuse")
    secondary.set_mode("healthy", reject_containing="needle")
    reply = gateway.send("/v1/traces", spans(1, name="has-needle-inside").SerializeToString())
    assert reply.status == 200
    assert len(backup_lines(aws, chain_env["BACKUP_BUCKET"], Signal.TRACES)) == 1
