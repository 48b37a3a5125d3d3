"""The local OTLP backend: what it records when healthy, and each way it fails on command."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import requests
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otlp_failover_dev.local.backend import OtlpBackend

PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_JSON = {
    "resourceSpans": [
        {
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "5B8EFFF798038103D269B633813FC60C",
                            "spanId": "EEE19B7EC3C1B174",
                            "name": "one",
                            "startTimeUnixNano": "1544712660000000000",
                        },
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b175",
                            "name": "two",
                        },
                    ]
                }
            ]
        }
    ]
}


def metrics_request(points: int) -> bytes:
    gauge = metrics_pb2.Metric(name="g", gauge=metrics_pb2.Gauge())
    gauge.gauge.data_points.extend(metrics_pb2.NumberDataPoint(as_int=i) for i in range(points))
    total = metrics_pb2.Metric(name="s", sum=metrics_pb2.Sum())
    total.sum.data_points.add(as_double=1.5)
    request = metrics_service_pb2.ExportMetricsServiceRequest()
    request.resource_metrics.add().scope_metrics.add().metrics.extend([gauge, total])
    body: bytes = request.SerializeToString()
    return body


def test_records_a_span_exported_by_the_opentelemetry_sdk(backend: OtlpBackend) -> None:
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=backend.endpoint("traces")))
    )
    with provider.get_tracer("test").start_as_current_span("checkout"):
        pass
    provider.shutdown()

    (export,) = backend.exports
    assert export.path == "/v1/traces"
    assert export.headers["content-type"] == "application/x-protobuf"
    assert export.items == 1
    assert export.message.resource_spans[0].scope_spans[0].spans[0].name == "checkout"
    assert backend.accepted_items("traces") == 1


def test_answers_protobuf_with_an_empty_response_and_counts_data_points(
    backend: OtlpBackend,
) -> None:
    reply = requests.post(backend.endpoint("metrics"), data=metrics_request(2), headers=PROTOBUF)

    assert (reply.status_code, reply.content) == (200, b"")
    assert reply.headers["Content-Type"] == "application/x-protobuf"
    assert backend.accepted_items("metrics") == 3  # 2 gauge points + 1 sum point


def test_json_gets_json_back_and_hex_ids_decode(backend: OtlpBackend) -> None:
    reply = requests.post(backend.endpoint("traces"), json=TRACE_JSON)

    assert (reply.status_code, reply.json()) == (200, {})
    (export,) = backend.exports
    span = export.message.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert export.items == 2


def test_gzip_bodies_are_recorded_as_received(backend: OtlpBackend) -> None:
    body = gzip.compress(metrics_request(1))
    headers = {**PROTOBUF, "Content-Encoding": "gzip"}

    assert requests.post(backend.endpoint("metrics"), data=body, headers=headers).ok
    assert backend.exports[0].body == body
    assert backend.exports[0].items == 2


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [
        ("/v1/traces", b"\xff\xff\xff", PROTOBUF, 400),
        ("/v1/traces", b"", {"Content-Type": "text/plain"}, 415),
        ("/v1/profiles", b"", PROTOBUF, 404),
    ],
)
def test_refuses_what_a_real_receiver_refuses(
    backend: OtlpBackend, path: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    reply = requests.post(backend.url + path, data=body, headers=headers)

    assert reply.status_code == status
    assert backend.accepted_exports == 0
    assert backend.requests_seen == 1


def test_status_mode_answers_a_google_rpc_status(backend: OtlpBackend) -> None:
    backend.set_mode("status", status=503)

    reply = requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF)
    as_json = requests.post(backend.endpoint("traces"), json={})

    assert reply.status_code == 503
    assert status_pb2.Status.FromString(reply.content).code == 14  # UNAVAILABLE
    assert (as_json.status_code, as_json.json()["code"]) == (503, 14)
    assert (backend.requests_seen, backend.accepted_exports) == (2, 0)


def test_throttle_answers_429_with_retry_after(backend: OtlpBackend) -> None:
    backend.set_mode("throttle", retry_after=7)

    reply = requests.post(backend.endpoint("logs"), data=b"", headers=PROTOBUF)

    assert (reply.status_code, reply.headers["Retry-After"]) == (429, "7")


def test_refuse_closes_the_port_and_healthy_reopens_the_same_one(backend: OtlpBackend) -> None:
    port = backend.port
    backend.set_mode("refuse")
    with pytest.raises(requests.ConnectionError):
        requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF, timeout=2)

    backend.set_mode("healthy")

    assert backend.port == port
    assert requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF).ok


def test_reset_drops_the_connection_mid_request(backend: OtlpBackend) -> None:
    backend.set_mode("reset")

    with pytest.raises(requests.ConnectionError):
        requests.post(backend.endpoint("traces"), data=b"x" * 10_000, headers=PROTOBUF)
    assert backend.accepted_exports == 0


def test_hang_outlasts_the_client_timeout_and_stop_ends_it(
    backend_factory: Callable[..., OtlpBackend],
) -> None:
    backend = backend_factory()
    backend.set_mode("hang")
    with pytest.raises(requests.Timeout):
        requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF, timeout=0.3)

    started = time.monotonic()
    backend.stop()
    assert time.monotonic() - started < 2


def test_slow_answers_200_after_the_delay(backend: OtlpBackend) -> None:
    backend.set_mode("slow", delay=0.3)

    started = time.monotonic()
    reply = requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF)

    assert reply.ok
    assert time.monotonic() - started >= 0.3


def test_flap_alternates_between_failing_and_healthy(backend: OtlpBackend) -> None:
    backend.set_mode("flap", fail="status", status=500, period=0.2)

    seen: set[int] = set()
    deadline = time.monotonic() + 3
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF).status_code)
        time.sleep(0.05)

    assert seen == {200, 500}


def test_flap_can_refuse_connections(backend: OtlpBackend) -> None:
    backend.set_mode("flap", fail="refuse", period=0.2)

    outcomes: set[str] = set()
    deadline = time.monotonic() + 3
    while len(outcomes) < 2 and time.monotonic() < deadline:
        try:
            requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF, timeout=1)
            outcomes.add("ok")
        except requests.ConnectionError:
            outcomes.add("refused")
        time.sleep(0.05)

    assert outcomes == {"ok", "refused"}


def test_control_endpoint_sets_modes_and_reports_counters(backend: OtlpBackend) -> None:
    requests.post(backend.endpoint("traces"), json=TRACE_JSON)

    reply = requests.post(backend.control_url, json={"mode": "status", "status": 401})
    failed = requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF)
    counters = requests.get(backend.control_url).json()

    assert reply.json()["mode"]["name"] == "status"
    assert failed.status_code == 401
    assert counters["requests"] == 2
    assert counters["accepted"] == 1
    assert counters["items"] == {"traces": 2, "metrics": 0, "logs": 0}


def test_demands_headers_when_told_and_never_shows_their_values(backend: OtlpBackend) -> None:
    demand = {"require_headers": {"Authorization": ["Bearer old-4a1f", "Bearer new-8c2e"]}}
    counters = requests.post(backend.control_url, json=demand).json()
    answers = {
        key: requests.post(
            backend.endpoint("traces"), data=b"", headers={**PROTOBUF, "Authorization": key}
        ).status_code
        for key in ("Bearer old-4a1f", "Bearer new-8c2e", "Bearer other", "")
    }
    requests.post(backend.control_url, json={"require_headers": {}})
    after = requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF)

    assert counters["required_headers"] == ["authorization"]
    assert "4a1f" not in json.dumps(counters) and "8c2e" not in json.dumps(counters)
    assert answers == {"Bearer old-4a1f": 200, "Bearer new-8c2e": 200, "Bearer other": 401, "": 401}
    assert (backend.unauthorized, backend.accepted_exports, after.status_code) == (2, 3, 200)


def test_control_port_heals_a_refusing_backend(backend: OtlpBackend) -> None:
    requests.post(backend.control_url, json={"mode": "refuse"})
    with pytest.raises(requests.ConnectionError):
        requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF, timeout=2)

    requests.post(backend.control_url, json={"mode": "healthy", "clear": True})

    assert requests.post(backend.endpoint("traces"), data=b"", headers=PROTOBUF).ok
    assert requests.get(backend.control_url).json()["requests"] == 1


def test_control_endpoint_rejects_unknown_modes(backend: OtlpBackend) -> None:
    reply = requests.post(backend.control_url, json={"mode": "explode"})

    assert reply.status_code == 400
    assert "unknown mode" in reply.json()["error"]
    assert backend.mode.name == "healthy"


def test_runs_as_a_module_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otlp_failover_dev.local.backend",
            "--port",
            "0",
            "--control-port",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # "OTLP/HTTP backend on <url>, control on <url>"
        url = line.split(" on ")[1].split(",")[0]
        control = line.rsplit(" on ", 1)[1].strip()
        assert requests.post(url + "/v1/logs", data=b"", headers=PROTOBUF).ok
        assert json.loads(requests.get(control).text)["accepted"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
