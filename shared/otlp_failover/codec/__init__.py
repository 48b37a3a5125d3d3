"""The OTLP codec: request bodies in, OTLP/JSON lines and response bodies out."""

from __future__ import annotations

from otlp_failover.codec.body import ExportBody, check_ids, count_items, decode_export, reencoded
from otlp_failover.codec.compression import decompress, gunzip
from otlp_failover.codec.json_decode import decode_json, parse_json_message
from otlp_failover.codec.json_encode import encode_json
from otlp_failover.codec.media import (
    MediaType,
    media_type_of,
    parse_content_encoding,
    parse_content_type,
)
from otlp_failover.codec.status import (
    decode_export_response,
    decode_status,
    export_response_body,
    rpc_code,
    status_body,
)

__all__ = [
    "ExportBody",
    "MediaType",
    "check_ids",
    "count_items",
    "decode_export",
    "decode_export_response",
    "decode_json",
    "decode_status",
    "decompress",
    "encode_json",
    "export_response_body",
    "gunzip",
    "media_type_of",
    "parse_content_encoding",
    "parse_content_type",
    "parse_json_message",
    "reencoded",
    "rpc_code",
    "status_body",
]
