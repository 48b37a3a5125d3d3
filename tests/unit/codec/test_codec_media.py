"""Content-Type and Content-Encoding: what the gateway speaks, and 415 for the rest."""

from __future__ import annotations

import pytest

from otlp_failover.codec import MediaType, parse_content_encoding, parse_content_type
from otlp_failover.errors import UnsupportedMediaTypeError


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", MediaType.PROTOBUF),
        ("Application/X-Protobuf", MediaType.PROTOBUF),
        ("application/x-protobuf; proto=opentelemetry", MediaType.PROTOBUF),
        ("application/json", MediaType.JSON),
        ("application/json; charset=utf-8", MediaType.JSON),
        ("application/json;charset=UTF-8", MediaType.JSON),
        ('application/json; charset="utf-8"', MediaType.JSON),
        ("APPLICATION/JSON ; Charset = utf8 ;", MediaType.JSON),
        ("  application/json  ", MediaType.JSON),
    ],
)
def test_supported_content_types_with_parameters_are_accepted(
    header: str, expected: MediaType
) -> None:
    assert parse_content_type(header) is expected


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (None, "missing Content-Type"),
        ("", "missing Content-Type"),
        ("text/plain", "unsupported Content-Type 'text/plain'"),
        ("application/protobuf", "unsupported Content-Type"),
        ("application/jsonl", "unsupported Content-Type"),
        ("application/json; charset=latin-1", "unsupported charset 'latin-1'"),
        ("application/json; charset=utf-16", "unsupported charset"),
    ],
)
def test_other_content_types_are_415_with_what_to_send(header: str | None, fragment: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_content_type(header)
    assert caught.value.status == 415
    assert fragment in caught.value.message


def test_media_type_values_are_the_header_values() -> None:
    # Typed str, as a header arrives: mypy sees no overlap between two literals, though a
    # StrEnum member equals its value.
    headers: dict[MediaType, str] = {
        MediaType.PROTOBUF: "application/x-protobuf",
        MediaType.JSON: "application/json",
    }
    for media, header in headers.items():
        assert media == header


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        (" GZIP ", "gzip"),
        ("x-gzip", "gzip"),
    ],
)
def test_no_encoding_identity_and_gzip_are_accepted(
    header: str | None, expected: str | None
) -> None:
    assert parse_content_encoding(header) == expected


@pytest.mark.parametrize("header", ["br", "compress", "gzip, gzip", "x-zstd"])
def test_other_content_encodings_are_415(header: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_content_encoding(header)
    assert caught.value.status == 415
    assert "send gzip, zlib, deflate, zstd, lz4, snappy, x-snappy-framed or no encoding" in (
        caught.value.message
    )
