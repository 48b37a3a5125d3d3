"""The HTTP API emulation: the payload-2.0 event a handler gets, and AWS's limits."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from otlp_failover_dev.local.apigw import (
    HttpApiEmulator,
    LambdaContext,
    LocalRequest,
    LocalResponse,
    build_event,
    http_reply,
)

MB = 1024 * 1024


class Echo:
    """A handler that keeps what it got and answers with the event as JSON."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[LambdaContext] = []

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(event),
        }

    def body(self) -> bytes:
        event = self.events[-1]
        raw = event.get("body") or ""
        return base64.b64decode(raw) if event["isBase64Encoded"] else raw.encode()


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def api(echo: Echo) -> Iterator[HttpApiEmulator]:
    with HttpApiEmulator(echo, timeout=1.0) as started:
        yield started


def test_binary_bodies_arrive_base64_encoded_and_intact(api: HttpApiEmulator, echo: Echo) -> None:
    body = os.urandom(4096)

    reply = requests.post(
        api.url + "/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
    )

    assert reply.status_code == 200
    assert echo.events[0]["isBase64Encoded"] is True
    assert echo.body() == body


@pytest.mark.parametrize(
    ("content_type", "encoding", "base64_encoded"),
    [
        ("application/json", None, False),
        ("application/json; charset=utf-8", None, False),
        ("text/plain", None, False),
        ("application/json", "gzip", True),  # compressed bytes are binary
        ("application/x-protobuf", None, True),
        (None, None, True),
    ],
)
def test_only_text_content_types_arrive_as_text(
    api: HttpApiEmulator,
    echo: Echo,
    content_type: str | None,
    encoding: str | None,
    base64_encoded: bool,
) -> None:
    body = b'{"resourceSpans": []}'
    if encoding:
        body = gzip.compress(body)
    headers = {
        k: v for k, v in {"Content-Type": content_type, "Content-Encoding": encoding}.items() if v
    }

    requests.post(api.url + "/v1/traces", data=body, headers=headers)

    assert echo.events[0]["isBase64Encoded"] is base64_encoded
    assert echo.body() == body


def test_event_has_the_payload_2_0_shape(api: HttpApiEmulator, echo: Echo) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", api.port)
    connection.putrequest("POST", "/v1/logs?a=1&a=2&b=")
    connection.putheader("X-Dup", "one")
    connection.putheader("x-dup", "two")
    connection.putheader("Cookie", "c1=v1; c2=v2")
    connection.putheader("User-Agent", "otel-test/1.0")
    connection.putheader("Content-Length", "0")
    connection.endheaders()
    assert connection.getresponse().status == 200
    connection.close()

    event = echo.events[0]
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "$default",
        "/v1/logs",
    )
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["x-dup"] == "one,two"
    assert all(name == name.lower() for name in event["headers"])
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert "body" not in event
    http_context = event["requestContext"]["http"]
    assert http_context == {
        "method": "POST",
        "path": "/v1/logs",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "otel-test/1.0",
    }
    assert event["requestContext"]["requestId"]
    assert abs(event["requestContext"]["timeEpoch"] / 1000 - time.time()) < 5


def test_chunked_request_bodies_are_accepted(api: HttpApiEmulator, echo: Echo) -> None:
    parts = [os.urandom(1000) for _ in range(5)]

    reply = requests.post(  # a generator makes requests send Transfer-Encoding: chunked
        api.url + "/v1/traces",
        data=iter(parts),
        headers={"Content-Type": "application/x-protobuf"},
    )

    assert reply.status_code == 200
    assert echo.body() == b"".join(parts)
    assert "transfer-encoding" not in echo.events[0]["headers"]
    assert echo.events[0]["headers"]["content-length"] == "5000"


def test_a_body_whose_event_is_over_6_mb_gets_413(api: HttpApiEmulator, echo: Echo) -> None:
    reply = requests.post(
        api.url + "/v1/traces",
        data=os.urandom(7 * MB),
        headers={"Content-Type": "application/x-protobuf"},
    )

    assert reply.status_code == 413
    assert reply.json() == {"message": "Request Entity Too Large"}
    assert echo.events == []


def test_a_4_mb_binary_body_still_fits_after_base64() -> None:
    def size(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": str(len(base64.b64decode(event["body"])))}

    with HttpApiEmulator(size) as api:
        reply = requests.post(
            api.url + "/v1/traces",
            data=os.urandom(4 * MB),
            headers={"Content-Type": "application/x-protobuf"},
        )

    assert (reply.status_code, reply.text) == (200, str(4 * MB))


def test_a_body_over_api_gateways_10_mb_quota_gets_413(api: HttpApiEmulator, echo: Echo) -> None:
    reply = requests.post(api.url + "/v1/traces", data=b"\0" * (11 * MB))

    assert reply.status_code == 413
    assert echo.events == []


def test_a_handler_over_the_integration_timeout_gets_503() -> None:
    release = threading.Event()

    def stuck(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(10)
        return {"statusCode": 200}

    with HttpApiEmulator(stuck, timeout=0.5) as api:
        started = time.monotonic()
        reply = requests.post(api.url + "/v1/traces", data=b"x")
        elapsed = time.monotonic() - started
    release.set()

    assert reply.status_code == 503
    assert reply.json() == {"message": "Service Unavailable"}
    assert 0.5 <= elapsed < 3


def test_a_handler_that_raises_gets_500() -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    with HttpApiEmulator(broken) as api:
        reply = requests.get(api.url + "/status")

    assert reply.status_code == 500
    assert reply.json() == {"message": "Internal Server Error"}


def test_context_counts_down_from_the_timeout(api: HttpApiEmulator, echo: Echo) -> None:
    requests.get(api.url + "/status")

    context = echo.contexts[0]
    assert 0 < context.get_remaining_time_in_millis() <= 1000
    assert context.invoked_function_arn.endswith(":function:ingest")
    assert context.aws_request_id


def test_handler_responses_become_http_responses() -> None:
    replies: list[Any] = [
        {
            "statusCode": 201,
            "headers": {"content-type": "application/x-protobuf", "retry-after": 3},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
            "cookies": ["a=1"],
        },
        {"statusCode": 400, "body": "plain text"},
        {"ok": True},  # no statusCode: API Gateway sends the result as a 200 JSON body
    ]

    def handler(event: dict[str, Any], context: Any) -> Any:
        return replies.pop(0)

    with HttpApiEmulator(handler) as api:
        binary = requests.post(api.url + "/v1/traces", data=b"")
        text = requests.post(api.url + "/v1/traces", data=b"")
        inferred = requests.post(api.url + "/v1/traces", data=b"")

    assert (binary.status_code, binary.content) == (201, b"\x00\x01")
    assert binary.headers["retry-after"] == "3"
    assert binary.headers["set-cookie"] == "a=1"
    assert binary.headers["apigw-requestid"]
    assert (text.status_code, text.text) == (400, "plain text")
    assert (inferred.status_code, inferred.json()) == (200, {"ok": True})
    assert inferred.headers["content-type"] == "application/json"


def test_local_routes_are_served_without_the_handler(api: HttpApiEmulator, echo: Echo) -> None:
    seen: list[LocalRequest] = []

    def metrics(request: LocalRequest) -> LocalResponse:
        seen.append(request)
        return LocalResponse(200, b"otelcol_connector_failover_current_level 0\n")

    api.add_route("/metrics", metrics)
    reply = requests.get(api.url + "/metrics?x=1")

    assert reply.text == "otelcol_connector_failover_current_level 0\n"
    assert reply.headers["content-type"].startswith("text/plain")
    assert (seen[0].method, seen[0].path, seen[0].query) == ("GET", "/metrics", "x=1")
    assert echo.events == []


def test_build_event_and_http_reply_need_no_server() -> None:
    event = build_event("POST", "/v1/metrics", [("Content-Type", "application/json")], b"{}")

    assert (event["body"], event["isBase64Encoded"]) == ("{}", False)
    assert http_reply("hello") == (200, [("content-type", "application/json")], b"hello")
