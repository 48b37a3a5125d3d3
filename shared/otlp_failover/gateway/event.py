"""API Gateway HTTP API (payload format 2.0) events in, Lambda proxy responses out."""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pybase64

from otlp_failover.codec import MediaType, media_type_of, status_body
from otlp_failover.errors import BadRequestError, PayloadTooLargeError


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names, as API Gateway delivers them
    body: bytes
    request_id: str
    iam_caller: str | None = None  # set by API Gateway when the route uses AWS_IAM auth

    @classmethod
    def from_event(cls, event: Mapping[str, Any], max_body_bytes: int) -> HttpRequest:
        http = event.get("requestContext", {}).get("http", {})
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        raw = event.get("body") or ""
        # Size is checked on the encoded form first so a huge body is never decoded.
        if len(raw) > (max_body_bytes * 4) // 3 + 4:
            raise PayloadTooLargeError(f"request body exceeds {max_body_bytes} bytes")
        if event.get("isBase64Encoded"):
            try:
                # pybase64 (SIMD) decodes a 4 MiB body in well under a millisecond; the
                # standard library's validating decode took longer than parsing it.
                body = pybase64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise BadRequestError("body is flagged base64 but does not decode") from None
        else:
            body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
        if len(body) > max_body_bytes:
            raise PayloadTooLargeError(f"request body exceeds {max_body_bytes} bytes")
        return cls(
            method=str(http.get("method", "GET")).upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            headers=headers,
            body=body,
            request_id=str(event.get("requestContext", {}).get("requestId", "")),
            iam_caller=_iam_caller(event),
        )

    def reply_media_type(self) -> MediaType:
        """The media type for answers: the request's when it is JSON, else protobuf."""
        return media_type_of(self.headers.get("content-type")) or MediaType.JSON


def _iam_caller(event: Mapping[str, Any]) -> str | None:
    iam = (event.get("requestContext", {}).get("authorizer") or {}).get("iam") or {}
    caller = iam.get("userArn") or iam.get("callerId")
    return str(caller) if caller else None


def response(
    status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": content_type, **(headers or {})},
        "body": pybase64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }


def error_response(
    status: int, message: str, media_type: MediaType, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An OTLP error: a google.rpc.Status body in the request's media type."""
    return response(status, status_body(status, message, media_type), media_type.value, headers)
