"""API Gateway HTTP API payload format 2.0: the event it builds, the reply it makes of a result.

Pure functions (no sockets), so they are tested on their own; ``apigw`` serves them.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ACCOUNT_ID = "123456789012"
# Measured on real HTTP APIs: only these content types reach Lambda as text; everything
# else, a missing Content-Type and form data included, arrives base64-encoded.
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})

Reply = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class LambdaContext:
    """What the Python runtime passes as ``context``, with the deadline counting down."""

    function_name: str
    aws_request_id: str
    deadline: float  # time.monotonic() at which the invocation times out
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    log_stream_name: str = field(
        default_factory=lambda: time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
    )

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def build_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway HTTP API sends for one request."""
    now = time.time() if now is None else now
    url = urlsplit(target)
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        elif key != "transfer-encoding":  # Lambda gets the body whole, never chunked
            joined[key] = f"{joined[key]},{value}" if key in joined else value
    if body:
        joined["content-length"] = str(len(body))
    joined.setdefault("x-forwarded-for", source_ip)
    joined.setdefault("x-forwarded-proto", "http")
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    request_id = request_id or base64.b64encode(os.urandom(10)).decode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path or "/",
        "rawQueryString": url.query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": joined.get("host", "localhost"),
            "domainPrefix": joined.get("host", "localhost").split(".")[0],
            "http": {
                "method": method,
                "path": url.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        text = _is_text(joined.get("content-type"), joined.get("content-encoding"), body)
        event["body"] = body.decode() if text else base64.b64encode(body).decode()
        event["isBase64Encoded"] = not text
    return event


def http_reply(result: Any) -> Reply:
    """A payload-2.0 handler result as API Gateway turns it into an HTTP response."""
    if isinstance(result, dict) and "statusCode" in result:
        status = int(result["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(f"statusCode {status} is not an HTTP status")
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        headers += [("set-cookie", str(c)) for c in result.get("cookies") or []]
        raw = result.get("body")
        if raw is None:
            return status, headers, b""
        if result.get("isBase64Encoded"):
            return status, headers, base64.b64decode(raw, validate=True)
        return status, headers, str(raw).encode()
    # Without a statusCode, API Gateway takes the whole result as a 200 JSON body.
    text = result if isinstance(result, str) else json.dumps(result)
    return 200, [("content-type", "application/json")], text.encode()


def _is_text(content_type: str | None, content_encoding: str | None, body: bytes) -> bool:
    if content_encoding and content_encoding.strip().lower() != "identity":
        return False  # compressed bytes are binary whatever the media type says
    media = (content_type or "").split(";", maxsplit=1)[0].strip().lower()
    if not (media.startswith("text/") or media in _TEXT_TYPES):
        return False
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True
