"""compression.py: every Content-Encoding a collector's otlphttp exporter sends, decoded
under one cap (413 past it, memory bounded by it), 400 for corrupt or truncated data,
415 (in media.py) only for codings the gateway does not know."""

from __future__ import annotations

import os
import tracemalloc
import zlib
from collections.abc import Callable

import pytest
from backports import zstd
from hypothesis import given, settings
from hypothesis import strategies as st

from otlp_failover.codec import decompress, parse_content_encoding
from otlp_failover.codec.compression import DECODERS
from otlp_failover.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from tests.compressors import (
    COMPRESSORS,
    ENCODINGS,
    raw_deflate,
    snappy_block,
    snappy_framed,
    zeros_bomb,
)

LIMIT = 4 * 1024 * 1024
# Random bytes, then a run the codecs shrink: what a real body mixes.
PAYLOAD = os.urandom(3000) + b"span-name " * 3000 + bytes(20_000)
STREAM_ID = b"\xff\x06\x00\x00sNaPpY"  # what a snappy framing-format stream starts with
FRAMED_ID_LENGTH = len(STREAM_ID)


def _error(expected: type[Exception], encoding: str, data: bytes, limit: int = LIMIT) -> str:
    with pytest.raises(expected) as caught:
        decompress(encoding, data, limit)
    return str(caught.value)


def test_the_table_has_every_coding_the_collector_sends() -> None:
    # config/confighttp: gzip, zstd, zlib, deflate, snappy, x-snappy-framed, lz4.
    assert sorted(DECODERS) == ENCODINGS


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip(encoding: str) -> None:
    assert decompress(encoding, COMPRESSORS[encoding](PAYLOAD), LIMIT) == PAYLOAD


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_exactly_at_the_limit_passes_and_one_byte_over_is_413(encoding: str) -> None:
    compress = COMPRESSORS[encoding]
    payload = os.urandom(500) + bytes(500)
    assert decompress(encoding, compress(payload), len(payload)) == payload
    message = _error(PayloadTooLargeError, encoding, compress(payload + b"\x00"), len(payload))
    assert f"{encoding} body decompresses to more than the limit of {len(payload)}" in message


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_bomb_is_413_with_memory_bounded_by_the_limit(encoding: str) -> None:
    bomb = zeros_bomb(encoding, 64)
    assert len(bomb) < LIMIT  # it fits in a request: the ratio is what it attacks with
    tracemalloc.start()
    try:
        message = _error(PayloadTooLargeError, encoding, bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "decompresses to more than the limit" in message
    assert peak < LIMIT + 512 * 1024, f"peak {peak} bytes for a {LIMIT}-byte limit"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_bytes_that_are_no_such_stream_are_400(encoding: str) -> None:
    message = _error(BadRequestError, encoding, b"this is not compressed at all, honestly")
    assert message.startswith(f"{encoding} ")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_truncation_is_400(encoding: str) -> None:
    data = COMPRESSORS[encoding](os.urandom(2000))
    for cut in range(len(data)):
        if encoding == "x-snappy-framed" and cut == FRAMED_ID_LENGTH:
            # The framing format has no end marker: the identifier alone is an empty stream.
            assert decompress(encoding, data[:cut], LIMIT) == b""
            continue
        with pytest.raises(BadRequestError):
            decompress(encoding, data[:cut], LIMIT)


# The snappy block format has no checksum: its preamble's length is what is checked.
@pytest.mark.parametrize("encoding", [e for e in ENCODINGS if e != "snappy"])
def test_a_flipped_checksum_byte_is_400(encoding: str) -> None:
    """Each stream carries a checksum of its content (gzip's CRC-32, zlib's Adler-32, the
    zstd and lz4 content checksums as collectors write them, snappy's masked CRC-32C)."""
    data = bytearray(COMPRESSORS[encoding](PAYLOAD))
    data[FRAMED_ID_LENGTH + 4 if encoding == "x-snappy-framed" else -6] ^= 0xFF
    _error(BadRequestError, encoding, bytes(data))


def test_multi_frame_zstd_and_lz4_and_multi_member_gzip_are_one_body() -> None:
    for encoding in ("gzip", "zstd", "lz4"):
        compress = COMPRESSORS[encoding]
        data = compress(b"first ") + compress(b"") + compress(b"second")
        assert decompress(encoding, data, LIMIT) == b"first second", encoding


@pytest.mark.parametrize("encoding", ["zlib", "deflate"])
def test_data_after_a_zlib_stream_is_400(encoding: str) -> None:
    data = zlib.compress(b"payload") + b"trailing"
    assert "data after the end of its stream" in _error(BadRequestError, encoding, data)


def test_deflate_takes_a_zlib_stream_and_a_raw_deflate_stream() -> None:
    assert decompress("deflate", zlib.compress(PAYLOAD), LIMIT) == PAYLOAD
    assert decompress("deflate", raw_deflate(PAYLOAD), LIMIT) == PAYLOAD
    with pytest.raises(BadRequestError):
        decompress("zlib", raw_deflate(PAYLOAD), LIMIT)  # zlib means the wrapper


def test_snappy_takes_the_framing_format_older_collectors_sent_under_its_name() -> None:
    assert decompress("snappy", snappy_framed(PAYLOAD), LIMIT) == PAYLOAD
    message = _error(BadRequestError, "x-snappy-framed", snappy_block(PAYLOAD))
    assert "does not start with the stream identifier" in message


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def test_a_snappy_block_declaring_a_gigabyte_is_413_before_anything_is_allocated() -> None:
    lying = _varint(1 << 30) + b"\x00" * 16
    tracemalloc.start()
    try:
        _error(PayloadTooLargeError, "snappy", lying)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


def _framed_chunk(kind: int, content: bytes) -> bytes:
    return bytes([kind]) + len(content).to_bytes(3, "little") + content


def test_framed_chunks_declaring_more_than_the_limit_are_413_before_decoding() -> None:
    # Each chunk: a (wrong) checksum and a block preamble saying 64 KiB, and no data.
    chunk = _framed_chunk(0x00, b"\x00" * 4 + _varint(65536))
    data = STREAM_ID + chunk * 100  # 6.25 MiB declared, 1 KiB sent
    assert "decompresses to more than the limit" in _error(PayloadTooLargeError, "snappy", data)


def test_a_framed_chunk_over_64_kib_is_400() -> None:
    data = STREAM_ID + _framed_chunk(0x00, b"\x00" * 4 + snappy_block(bytes(70_000)))
    assert "over 65536" in _error(BadRequestError, "x-snappy-framed", data)


def test_a_zstd_frame_whose_window_is_over_the_cap_and_8_mib_is_400() -> None:
    """The decoder would allocate the window whatever the output: 128 MiB here."""
    compressor = zstd.ZstdCompressor(options={zstd.CompressionParameter.window_log: 27})
    data = compressor.compress(PAYLOAD) + compressor.flush()
    assert "too much memory" in _error(BadRequestError, "zstd", data)
    assert decompress("zstd", data, 200 * 1024 * 1024) == PAYLOAD  # a cap that allows it


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (" ZSTD ", "zstd"),
        ("Snappy", "snappy"),
        ("X-Snappy-Framed", "x-snappy-framed"),
        ("LZ4", "lz4"),
        ("\tDeflate", "deflate"),
        ("ZLIB", "zlib"),
        ("X-GZIP", "gzip"),
    ],
)
def test_content_encoding_is_read_case_blind_and_trimmed(header: str, expected: str) -> None:
    assert parse_content_encoding(header) == expected


@pytest.mark.parametrize("header", ["br", "compress", "zstd, gzip", "snappy-framed", "none"])
def test_codings_the_gateway_does_not_know_are_415_naming_those_it_does(header: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_content_encoding(header)
    assert caught.value.status == 415
    assert all(encoding in caught.value.message for encoding in ENCODINGS)


def _mutated(data: bytes, at: int, value: int) -> bytes:
    if not data:
        return data
    changed = bytearray(data)
    changed[at % len(changed)] = value
    return bytes(changed)


@settings(max_examples=300, deadline=None)
@given(
    encoding=st.sampled_from(ENCODINGS),
    payload=st.binary(max_size=300),
    repeat=st.integers(1, 40),
    cut=st.integers(0, 400),
    at=st.integers(0, 400),
    value=st.integers(0, 255),
    junk=st.binary(max_size=16),
)
def test_any_bytes_decompress_within_the_limit_or_are_400_or_413(
    encoding: str, payload: bytes, repeat: int, cut: int, at: int, value: int, junk: bytes
) -> None:
    compress: Callable[[bytes], bytes] = COMPRESSORS[encoding]
    data = _mutated(compress(payload * repeat)[: cut or None], at, value) + junk
    try:
        result = decompress(encoding, data, 2000)
    except (BadRequestError, PayloadTooLargeError) as exc:
        assert exc.status in (400, 413)
    else:
        assert len(result) <= 2000
