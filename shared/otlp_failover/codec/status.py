"""Response bodies: ``google.rpc.Status`` for errors, ``Export*ServiceResponse`` for success.

Both go out in the request's media type, as the OTLP/HTTP spec requires.
"""

from __future__ import annotations

from typing import Any

import orjson
from google.protobuf.message import DecodeError  # type: ignore[import-untyped, unused-ignore]
from google.rpc import code_pb2, status_pb2

from otlp_failover.codec.json_decode import parse_json_message
from otlp_failover.codec.json_encode import encode_json
from otlp_failover.codec.media import MediaType
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal

# The collector's mapping (internal/httphelper NewStatusFromMsgAndHTTPCode, after gRPC's
# http-grpc-status-mapping.md, with 400 and 429 as its exceptions), plus the statuses it
# leaves UNKNOWN and this gateway answers: 405, 413, 415 and 500.
_CODES: dict[int, int] = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.UNIMPLEMENTED,
    405: code_pb2.UNIMPLEMENTED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.INVALID_ARGUMENT,
    429: code_pb2.RESOURCE_EXHAUSTED,
    500: code_pb2.INTERNAL,
    502: code_pb2.UNAVAILABLE,
    503: code_pb2.UNAVAILABLE,
    504: code_pb2.UNAVAILABLE,
}


def rpc_code(http_status: int) -> int:
    """The ``google.rpc.Code`` an error response with ``http_status`` carries."""
    return int(_CODES.get(http_status, code_pb2.UNKNOWN))


def status_body(http_status: int, message: str, media_type: MediaType) -> bytes:
    """The ``google.rpc.Status`` body of an error response, protobuf or proto3 JSON."""
    code = rpc_code(http_status)
    if media_type is MediaType.JSON:
        # proto3 JSON of Status; fields at their default value are omitted.
        document: dict[str, Any] = {}
        if code:
            document["code"] = code
        if message:
            document["message"] = message
        return orjson.dumps(document)
    return bytes(status_pb2.Status(code=code, message=message).SerializeToString())


def export_response_body(
    signal: Signal, media_type: MediaType, partial_success: Any | None = None
) -> bytes:
    """A success body: an empty ``Export*ServiceResponse``, or one carrying the primary's
    partial success (an ``Export*PartialSuccess`` of ``signal``) when it reported one."""
    response = signal.response_class()
    if partial_success is not None and partial_success.ListFields():
        response.partial_success.CopyFrom(partial_success)
    if media_type is MediaType.JSON:
        return encode_json(response)
    return bytes(response.SerializeToString())


def decode_export_response(signal: Signal, data: bytes, media_type: MediaType) -> Any | None:
    """A backend's ``Export*ServiceResponse``, or None when the body is not one.

    An empty body is an empty response (success without partial success).
    """
    response_class = signal.response_class
    if not data:
        return response_class()
    try:
        if media_type is MediaType.JSON:
            return parse_json_message(response_class, data)
        return response_class.FromString(data)
    except (BadRequestError, DecodeError):
        return None


def decode_status(data: bytes, media_type: MediaType) -> Any | None:
    """A ``google.rpc.Status`` error body, or None when the body is not one."""
    if media_type is MediaType.JSON:
        return _status_from_json(data)
    try:
        return status_pb2.Status.FromString(data)
    except DecodeError:
        return None


def _status_from_json(data: bytes) -> Any | None:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    code, message = document.get("code", 0), document.get("message", "")
    if type(code) is not int or not isinstance(message, str):
        return None
    try:
        return status_pb2.Status(code=code, message=message)
    except ValueError:
        return None
