"""Content-Type and Content-Encoding of an OTLP/HTTP request: what the gateway speaks."""

from __future__ import annotations

from enum import StrEnum

from otlp_failover.codec.compression import ALIASES, DECODERS
from otlp_failover.errors import UnsupportedMediaTypeError


class MediaType(StrEnum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


_BY_NAME = {media.value: media for media in MediaType}
_UTF8 = frozenset({"utf-8", "utf8"})
_SPOKEN = "application/x-protobuf or application/json"
_CODINGS = ", ".join(DECODERS)


def parse_content_type(header: str | None) -> MediaType:
    """The media type of ``header``; parameters allowed, only UTF-8 for JSON (else 415)."""
    if header is None or not header.strip():
        raise UnsupportedMediaTypeError(f"missing Content-Type: send {_SPOKEN}")
    essence, _, parameters = header.partition(";")
    media = _BY_NAME.get(essence.strip().lower())
    if media is None:
        raise UnsupportedMediaTypeError(
            f"unsupported Content-Type {header.strip()!r}: send {_SPOKEN}"
        )
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset" or media is not MediaType.JSON:
            continue
        charset = value.strip().strip('"').lower()
        if charset not in _UTF8:
            raise UnsupportedMediaTypeError(
                f"unsupported charset {charset!r} for application/json: OTLP/JSON is UTF-8"
            )
    return media


def parse_content_encoding(header: str | None) -> str | None:
    """The coding ``header`` names, lowercased (``x-gzip`` is ``gzip``), one of
    ``compression.DECODERS``; None for no header, an empty one or ``identity``. Anything
    else, a list of codings included, is a 415."""
    if header is None:
        return None
    encoding = header.strip().lower()
    if encoding in ("", "identity"):
        return None
    encoding = ALIASES.get(encoding, encoding)
    if encoding in DECODERS:
        return encoding
    raise UnsupportedMediaTypeError(
        f"unsupported Content-Encoding {header.strip()!r}: send {_CODINGS} or no encoding"
    )


def media_type_of(header: str | None) -> MediaType | None:
    """The OTLP media type a ``Content-Type`` names, or None: the lenient reading of an
    answer's header (a backend's response, an SDK's request), where a 415 is no answer."""
    return _BY_NAME.get((header or "").split(";", 1)[0].strip().lower())
