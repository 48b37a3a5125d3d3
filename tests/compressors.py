"""Bodies compressed as a collector's ``otlphttp`` exporter compresses them, one function per
Content-Encoding the gateway takes, for the tests of every tier (the product only
decompresses).

``snappy`` is the block format, as collectors since v0.125 send it; ``snappy_framed`` is
the framing format, which ``x-snappy-framed`` names and older collectors sent as ``snappy``.
``deflate`` is a zlib stream, as the collector (and RFC 9110) sends it.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import cramjam
import lz4.frame
from backports import zstd


def snappy_block(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def snappy_framed(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress(data))


def zstd_frame(data: bytes) -> bytes:
    # With the content checksum, as the collector's encoder writes it.
    return zstd.compress(data, options={zstd.CompressionParameter.checksum_flag: 1})


def lz4_frame(data: bytes) -> bytes:
    compressed: bytes = lz4.frame.compress(data, content_checksum=True)
    return compressed


def raw_deflate(data: bytes) -> bytes:
    """A DEFLATE stream without the zlib wrapper, as some HTTP clients send "deflate"."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "zlib": zlib.compress,
    "deflate": zlib.compress,
    "zstd": zstd_frame,
    "lz4": lz4_frame,
    "snappy": snappy_block,
    "x-snappy-framed": snappy_framed,
}
ENCODINGS = sorted(COMPRESSORS)


def compress(encoding: str | None, data: bytes) -> bytes:
    """``data`` as a client sends it under ``encoding`` (None: as it is)."""
    return data if encoding is None else COMPRESSORS[encoding](data)


def zeros_bomb(encoding: str, mib: int) -> bytes:
    """``mib`` MiB of zeros under ``encoding``, built without holding them all at once
    where the format allows: a zlib stream restarts at each full flush, so every further
    MiB compresses to the same bytes (the trailer is left off: a decoder must stop long
    before it); zstd is streamed."""
    zeros = bytes(1 << 20)
    if encoding in ("gzip", "zlib", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
        head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
        block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
        return head + block * (mib - 1)
    if encoding == "zstd":
        streamed = zstd.ZstdCompressor()
        return b"".join(streamed.compress(zeros) for _ in range(mib)) + streamed.flush()
    return COMPRESSORS[encoding](zeros * mib)
