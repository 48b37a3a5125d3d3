"""Pure pieces: backup key layout, API event parsing, auth, Prometheus text, EMF documents."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.errors import BadRequestError, PayloadTooLargeError, UnauthorizedError
from otlp_failover.gateway.auth import IamAuthenticator, TokenAuthenticator
from otlp_failover.gateway.event import HttpRequest
from otlp_failover.signals import Signal
from otlp_failover.telemetry import Telemetry
from otlp_failover_dev.local import prometheus

MOMENT = datetime(2026, 11, 27, 9, 5, 7, 123456, tzinfo=UTC)


def test_backup_keys_follow_the_documented_layout_and_sort_by_time() -> None:
    layout = BackupLayout("backup", shards=16)
    key = layout.new_key(Signal.LOGS, MOMENT, unique="abc", shard="s05")
    assert key == "backup/logs/s05/2026/11/27/09/20261127T090507.123456Z-abc.jsonl"
    later = layout.new_key(Signal.LOGS, MOMENT.replace(hour=10), unique="000", shard="s05")
    assert sorted([later, key]) == [key, later]
    assert layout.shard_names() == tuple(f"s{n:02d}" for n in range(16))
    # Writes spread over every shard; the older layout's years list apart from them.
    spread = {layout.new_key(Signal.LOGS, MOMENT).split("/")[2] for _ in range(2000)}
    assert spread == set(layout.shard_names())
    assert layout.shard_prefix(Signal.LOGS, "legacy") == "backup/logs/20"
    assert not any(name.startswith("20") for name in layout.shard_names())
    assert layout.written_at(key) == MOMENT
    assert layout.processed_key(key).startswith("processed/backup/logs/")
    assert layout.deadletter_key(key).startswith("deadletter/backup/logs/")


def test_the_shards_to_drain_are_the_folders_found_whatever_count_wrote_them() -> None:
    # Written with 16 shards, read with 4: s12 is still drained; years are the old layout.
    folders = ["2025", "2026", "notes", "s01", "s12", "s3", "sx1"]
    assert BackupLayout("backup", shards=4).shards_in(folders) == ["s01", "s12", "legacy"]
    assert BackupLayout.shards_in(["s00"]) == ["s00"]
    assert BackupLayout.shards_in([]) == []


def event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "rawPath": "/v1/traces",
        "requestContext": {"http": {"method": "post"}, "requestId": "r-1"},
        "headers": {"Content-Type": "application/json"},
        "body": "{}",
        "isBase64Encoded": False,
    }
    return base | overrides


def test_events_become_requests_with_lower_case_headers() -> None:
    request = HttpRequest.from_event(event(), max_body_bytes=100)
    assert (request.method, request.path, request.body) == ("POST", "/v1/traces", b"{}")
    assert request.headers == {"content-type": "application/json"}
    assert request.request_id == "r-1" and request.iam_caller is None


def test_base64_bodies_are_decoded_and_lying_flags_refused() -> None:
    body = base64.b64encode(b"\x00\x01").decode()
    assert HttpRequest.from_event(event(body=body, isBase64Encoded=True), 100).body == b"\x00\x01"
    with pytest.raises(BadRequestError):
        HttpRequest.from_event(event(body="%%%", isBase64Encoded=True), 100)


def test_oversized_bodies_are_refused_before_decoding() -> None:
    with pytest.raises(PayloadTooLargeError):
        HttpRequest.from_event(event(body="x" * 101), max_body_bytes=100)
    with pytest.raises(PayloadTooLargeError):
        huge = base64.b64encode(b"x" * 200).decode()
        HttpRequest.from_event(event(body=huge, isBase64Encoded=True), max_body_bytes=100)


def request_with(headers: dict[str, str], iam: str | None = None) -> HttpRequest:
    return HttpRequest("POST", "/v1/traces", headers, b"", "r", iam)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer new", True),
        ("bearer old", True),
        ("Bearer  new ", True),
        ("Bearer guess", False),
        ("Basic new", False),
        ("new", False),
        ("Bearer", False),
        ("", False),
    ],
)
def test_bearer_tokens_any_of_the_rotation_set(header: str, ok: bool) -> None:
    auth = TokenAuthenticator(lambda: ("new", "old"))
    if ok:
        auth.check(request_with({"authorization": header}))
    else:
        with pytest.raises(UnauthorizedError):
            auth.check(request_with({"authorization": header}))


def test_iam_mode_needs_the_caller_api_gateway_verified() -> None:
    IamAuthenticator().check(request_with({}, iam="arn:aws:iam::1:role/x"))
    with pytest.raises(UnauthorizedError):
        IamAuthenticator().check(request_with({"authorization": "Bearer anything"}))


def test_prometheus_text_has_the_collectors_level_gauge_and_counters() -> None:
    telemetry = Telemetry("Test", emit=lambda _: None)
    telemetry.count("ExportFailures", Signal.TRACES, level=0)
    telemetry.count("ExportFailures", Signal.TRACES, level=0)
    telemetry.count("Failovers", Signal.TRACES)
    text = prometheus.render(
        {"traces": 1, "logs": 0}, {"traces": 0, "logs": 2}, [telemetry.totals()]
    )
    lines = text.splitlines()
    assert 'otelcol_connector_failover_current_level{signal="traces"} 1' in lines
    assert 'otelcol_connector_failover_current_level{signal="logs"} 0' in lines
    assert 'otlp_failover_consecutive_failures{signal="logs"} 2' in lines
    assert 'otlp_failover_export_failures_total{signal="traces",level="0"} 2' in lines
    assert 'otlp_failover_failovers_total{signal="traces"} 1' in lines
    assert "# TYPE otlp_failover_failovers_total counter" in lines


def test_emf_documents_sum_counts_per_dimension_set_once_per_flush() -> None:
    emitted: list[str] = []
    telemetry = Telemetry("Gateway", emit=emitted.append)
    for _ in range(3):
        telemetry.count("BackupWrites", Signal.LOGS)
    telemetry.count("BackupBytes", Signal.LOGS, 300)
    telemetry.gauge("CurrentLevel", Signal.LOGS, 2)
    telemetry.count("ExportsAccepted", Signal.LOGS, level=2)
    telemetry.flush()
    documents = [json.loads(d) for d in emitted]
    assert len(documents) == 2  # (Signal) and (Signal, Level)
    by_signal = next(d for d in documents if "Level" not in d)
    assert by_signal["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Gateway"
    assert (by_signal["BackupWrites"], by_signal["BackupBytes"], by_signal["CurrentLevel"]) == (
        [3.0],
        [300.0],
        [2.0],
    )
    telemetry.flush()
    assert len(emitted) == 2  # nothing new to say


def test_emf_documents_carry_the_functions_log_level_and_an_rfc3339_timestamp() -> None:
    # Lambda's JSON log filter counts a line without both as INFO (and drops it at WARN).
    emitted: list[str] = []
    telemetry = Telemetry("Gateway", emit=emitted.append, log_level="ERROR")
    telemetry.gauge("CurrentLevel", Signal.LOGS, 0)
    telemetry.flush()
    (document,) = map(json.loads, emitted)
    assert document["level"] == "ERROR"
    stamp = datetime.fromisoformat(document["timestamp"])
    assert stamp.tzinfo is not None and document["timestamp"].endswith("Z")
    assert stamp.timestamp() * 1000 == document["_aws"]["Timestamp"]


def test_the_first_request_after_a_slow_cold_start_gets_what_is_left_of_api_gateways_30s() -> None:
    from otlp_failover.gateway.ingest import API_GATEWAY_TIMEOUT, DEADLINE_MARGIN, export_deadline

    now = 1000.0
    warm = export_deadline(now, remaining=None, init_started=None)
    assert warm == now + API_GATEWAY_TIMEOUT - DEADLINE_MARGIN
    # Init took 20 s: API Gateway has waited that long already.
    cold = export_deadline(now, remaining=None, init_started=now - 20)
    assert cold == now + API_GATEWAY_TIMEOUT - 20 - DEADLINE_MARGIN
    # The function's own timeout, when shorter, wins.
    assert export_deadline(now, remaining=3.0, init_started=None) == now + 3.0 - DEADLINE_MARGIN


def test_a_first_request_that_fails_to_parse_still_uses_up_the_cold_start_allowance() -> None:
    import base64
    import time

    from otlp_failover.gateway.ingest import BodyLimits, IngestGateway
    from otlp_failover.metrics import NoMetrics

    deadlines: list[float] = []

    class Router:
        def route(self, body: object, deadline: float) -> object:
            deadlines.append(deadline)
            raise RuntimeError("stop here")  # answered 500: only the deadline matters

    class Allow:
        def check(self, request: object) -> None:
            pass

    gateway = IngestGateway(
        Router(),  # type: ignore[arg-type]
        Allow(),
        None,  # type: ignore[arg-type]
        BodyLimits(1024, 4096),
        NoMetrics(),
        init_started=time.monotonic() - 60,  # a cold start longer than API Gateway waits
    )
    http = {"method": "POST", "path": "/v1/traces"}
    event = {"rawPath": "/v1/traces", "requestContext": {"http": http}, "isBase64Encoded": True}
    headers = {"content-type": "application/x-protobuf"}
    assert (
        gateway.handle({**event, "body": "not base64!", "headers": headers}, None)["statusCode"]
        == 400
    )
    gateway.handle({**event, "body": base64.b64encode(b"").decode(), "headers": headers}, None)
    (deadline,) = deadlines
    assert deadline > time.monotonic() + 20  # a fresh 29 s, not one spent by the cold start
