"""Response bodies: google.rpc.Status for errors and Export*ServiceResponse for success."""

from __future__ import annotations

import json
from typing import TypeAlias

import pytest
from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otlp_failover.codec import (
    MediaType,
    decode_export_response,
    decode_status,
    export_response_body,
    rpc_code,
    status_body,
)
from otlp_failover.signals import Signal

ExportResponse: TypeAlias = (
    trace_service_pb2.ExportTraceServiceResponse
    | metrics_service_pb2.ExportMetricsServiceResponse
    | logs_service_pb2.ExportLogsServiceResponse
)


@pytest.mark.parametrize(
    ("http_status", "code"),
    [
        (400, code_pb2.INVALID_ARGUMENT),
        (401, code_pb2.UNAUTHENTICATED),
        (403, code_pb2.PERMISSION_DENIED),
        (404, code_pb2.UNIMPLEMENTED),
        (405, code_pb2.UNIMPLEMENTED),
        (413, code_pb2.RESOURCE_EXHAUSTED),
        (415, code_pb2.INVALID_ARGUMENT),
        (429, code_pb2.RESOURCE_EXHAUSTED),
        (500, code_pb2.INTERNAL),
        (502, code_pb2.UNAVAILABLE),
        (503, code_pb2.UNAVAILABLE),
        (504, code_pb2.UNAVAILABLE),
        (418, code_pb2.UNKNOWN),
    ],
)
def test_http_status_maps_to_the_collectors_rpc_code(http_status: int, code: int) -> None:
    assert rpc_code(http_status) == code


@pytest.mark.parametrize("http_status", [400, 401, 404, 413, 415, 503])
def test_protobuf_status_body_parses_back(http_status: int) -> None:
    body = status_body(http_status, "it went wrong: ünïcode", MediaType.PROTOBUF)
    status = status_pb2.Status.FromString(body)
    assert status.code == rpc_code(http_status)
    assert status.message == "it went wrong: ünïcode"
    assert decode_status(body, MediaType.PROTOBUF) == status


@pytest.mark.parametrize("http_status", [400, 401, 404, 413, 415, 503])
def test_json_status_body_is_proto3_json_and_parses_back(http_status: int) -> None:
    body = status_body(http_status, 'bad "value"', MediaType.JSON)
    assert json.loads(body) == {"code": rpc_code(http_status), "message": 'bad "value"'}
    status = json_format.Parse(body, status_pb2.Status())
    assert status.code == rpc_code(http_status)
    assert decode_status(body, MediaType.JSON) == status


def test_unparseable_status_bodies_give_none() -> None:
    assert decode_status(b"<html>", MediaType.JSON) is None
    assert decode_status(b"[1]", MediaType.JSON) is None
    assert decode_status(b'{"code": "x"}', MediaType.JSON) is None
    assert decode_status(b"\xff\xff", MediaType.PROTOBUF) is None


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_success_body_is_an_empty_response_in_either_media_type(signal: Signal) -> None:
    assert export_response_body(signal, MediaType.PROTOBUF) == b""
    assert export_response_body(signal, MediaType.JSON) == b"{}"
    assert decode_export_response(signal, b"", MediaType.PROTOBUF) == signal.response_class()
    assert decode_export_response(signal, b"{}", MediaType.JSON) == signal.response_class()


def _partial(signal: Signal) -> ExportResponse:
    response: ExportResponse = signal.response_class()
    rejected = {
        Signal.TRACES: "rejected_spans",
        Signal.METRICS: "rejected_data_points",
        Signal.LOGS: "rejected_log_records",
    }[signal]
    setattr(response.partial_success, rejected, 7)
    response.partial_success.error_message = "7 items too old"
    return response


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_partial_success_from_a_protobuf_primary_is_passed_to_a_json_client(
    signal: Signal,
) -> None:
    primary = _partial(signal)
    received = decode_export_response(signal, primary.SerializeToString(), MediaType.PROTOBUF)
    assert received is not None
    assert received == primary
    body = export_response_body(signal, MediaType.JSON, received.partial_success)
    document = json.loads(body)
    assert document["partialSuccess"]["errorMessage"] == "7 items too old"
    assert "7" in document["partialSuccess"].values()  # int64 as a decimal string
    assert decode_export_response(signal, body, MediaType.JSON) == primary


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_partial_success_from_a_json_primary_is_passed_to_a_protobuf_client(
    signal: Signal,
) -> None:
    primary = _partial(signal)
    line = json_format.MessageToJson(primary)
    received = decode_export_response(signal, line.encode(), MediaType.JSON)
    assert received is not None
    assert received == primary
    body = export_response_body(signal, MediaType.PROTOBUF, received.partial_success)
    assert signal.response_class.FromString(body) == primary


def test_an_empty_partial_success_is_not_copied() -> None:
    empty = Signal.TRACES.response_class().partial_success
    assert export_response_body(Signal.TRACES, MediaType.JSON, empty) == b"{}"


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"<html>502 Bad Gateway</html>", MediaType.JSON),
        (b'{"partialSuccess": {"rejectedSpans": "many"}}', MediaType.JSON),
        (b"\xff\xff\xff", MediaType.PROTOBUF),
    ],
)
def test_a_backend_response_that_does_not_parse_gives_none(
    data: bytes, media_type: MediaType
) -> None:
    assert decode_export_response(Signal.TRACES, data, media_type) is None


def test_unknown_fields_in_a_json_backend_response_are_ignored() -> None:
    data = b'{"partialSuccess": {"rejectedSpans": 2, "future": 1}, "other": []}'
    response = decode_export_response(Signal.TRACES, data, MediaType.JSON)
    assert response is not None
    assert response.partial_success.rejected_spans == 2
