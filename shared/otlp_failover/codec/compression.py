"""Request Content-Encodings: every compression a collector's ``otlphttp`` exporter sends,
each decompressed under one cap.

One function per coding, behind one table (``DECODERS``). Each stops as soon as the
output passes ``limit`` (413) and holds at most ``limit`` plus one small step of output
on the way, whatever the ratio, so a bomb costs no more memory than a body at the limit.
Corrupt or truncated data is a 400. The codings and what the collector puts under them
(``config/confighttp/compressor.go``):

- ``gzip`` (and its alias ``x-gzip``): RFC 1952, every member of a multi-member body;
- ``zlib`` and ``deflate``: both a zlib stream (RFC 1950), as RFC 9110 defines "deflate"
  and the collector sends both; a raw DEFLATE stream under ``deflate`` is taken too, as
  some HTTP clients send that;
- ``zstd``: every frame; a frame whose window is larger than both the cap and 8 MiB (the
  default of the collector's encoder, and of zstd's level 19) is refused, as the decoder
  would allocate it whatever the output;
- ``lz4``: the LZ4 frame format, every frame;
- ``snappy``: the block format, as collectors since v0.125 send it, or the framing format
  that older ones sent under this name (told apart by the stream identifier, as the
  collector's own receiver does); ``x-snappy-framed``: the framing format only.

zstd is ``compression.zstd`` (Python 3.14) or its backport, lz4 is python-lz4: both
decompress a step at a time under an output bound, with the same interface as zlib's
(``_streamed``). Snappy (cramjam) does not stream, but its sizes are declared up front:
the block's preamble, or each frame chunk's, is checked against the cap before a byte is
decoded. The libraries are imported on first use, so a cold start pays for none of them,
except that urllib3 imports the zstd backport itself when it is installed (to read zstd
answers), about 4 ms.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from otlp_failover.errors import BadRequestError, PayloadTooLargeError

if TYPE_CHECKING:
    from types import ModuleType

# Bytes fed to and taken from a decompressor per call: buffers grow in steps this small.
_STEP = 64 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZSTD_WINDOW_LOG = 23  # 8 MiB: the window a zstd frame may need whatever the cap
_SNAPPY_STREAM_ID = b"\xff\x06\x00\x00sNaPpY"
_SNAPPY_MAX_CHUNK = 65536  # decompressed bytes a frame chunk may hold (framing_format.txt)

ALIASES = {"x-gzip": "gzip"}


class _Stream(Protocol):
    """A decompressor as lzma, bz2, compression.zstd and lz4.frame have it."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes | None: ...  # lz4.frame's is None until its frame ends
    def decompress(self, data: bytes | memoryview, max_length: int = -1) -> bytes: ...


class _Zlib:
    """zlib's decompressor as a ``_Stream``: the input it has not read is its own tail."""

    def __init__(self, wbits: int) -> None:
        self._inflater = zlib.decompressobj(wbits)

    @property
    def eof(self) -> bool:
        return self._inflater.eof

    @property
    def needs_input(self) -> bool:
        return not self._inflater.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return self._inflater.unused_data

    def decompress(self, data: bytes | memoryview, max_length: int = -1) -> bytes:
        # max_length is always given (0 would mean no bound to zlib).
        return self._inflater.decompress(data or self._inflater.unconsumed_tail, max_length)


def decompress(encoding: str, data: bytes, limit: int) -> bytes:
    """``data`` decoded as ``encoding`` (a key of ``DECODERS``); 413 past ``limit`` bytes,
    400 if corrupt or truncated."""
    return DECODERS[encoding](data, limit)


def gunzip(data: bytes, limit: int) -> bytes:
    """Every gzip member of ``data``."""
    return _streamed("gzip", data, limit, lambda: _Zlib(_GZIP_WBITS), zlib.error, members=True)


def _zlib(data: bytes, limit: int) -> bytes:
    return _streamed("zlib", data, limit, lambda: _Zlib(zlib.MAX_WBITS), zlib.error)


def _deflate(data: bytes, limit: int) -> bytes:
    wbits = zlib.MAX_WBITS if _has_zlib_header(data) else -zlib.MAX_WBITS
    return _streamed("deflate", data, limit, lambda: _Zlib(wbits), zlib.error)


def _zstd(data: bytes, limit: int) -> bytes:
    zstd = _zstd_module()
    window_log = min(max(_ZSTD_WINDOW_LOG, (limit - 1).bit_length()), 31)
    options = {zstd.DecompressionParameter.window_log_max: window_log}

    def frame() -> _Stream:
        decompressor: _Stream = zstd.ZstdDecompressor(options=options)
        return decompressor

    return _streamed("zstd", data, limit, frame, zstd.ZstdError, members=True)


def _lz4(data: bytes, limit: int) -> bytes:
    import lz4.frame  # noqa: PLC0415 - on first use: most cold starts never see lz4

    # python-lz4 says what is wrong with a frame in a RuntimeError of its own.
    return _streamed("lz4", data, limit, lz4.frame.LZ4FrameDecompressor, RuntimeError, members=True)


def _snappy(data: bytes, limit: int) -> bytes:
    if data.startswith(_SNAPPY_STREAM_ID):
        return _snappy_framed(data, limit, "snappy")
    snappy = _snappy_module()
    try:
        size = snappy.decompress_raw_len(data)
        _check_size("snappy", size, limit)  # from the preamble, before a byte is decoded
        # The decoder writes exactly the size the preamble declares, or fails.
        return bytes(snappy.decompress_raw(data))
    except _cramjam_error() as exc:
        raise BadRequestError(f"snappy body is corrupt or truncated: {exc}") from exc


def _snappy_framed(data: bytes, limit: int, name: str = "x-snappy-framed") -> bytes:
    if not data.startswith(_SNAPPY_STREAM_ID):
        raise BadRequestError(f"{name} body does not start with the stream identifier")
    size = _framed_size(name, data, limit)
    output = bytearray(size)  # the decoder cannot write past it: a chunk that lied fails
    try:
        written = _snappy_module().decompress_into(data, output)
    except _cramjam_error() as exc:
        raise BadRequestError(f"{name} body is corrupt or truncated: {exc}") from exc
    if written != size:
        raise BadRequestError(f"{name} body is shorter than its chunks declare")
    return bytes(output)


def _framed_size(name: str, data: bytes, limit: int) -> int:
    """The decompressed size a snappy framing-format stream declares, chunk by chunk: 413
    as soon as the sum passes ``limit``, 400 for a chunk that breaks off or is too big.
    The checksums and the reserved chunk types are left to the decoder. (The format has
    no end marker: a stream cut between two chunks is a shorter valid one.)"""
    view, total, offset = memoryview(data), 0, 0
    while offset < len(data):
        header = view[offset : offset + 4]
        if len(header) < 4:
            raise BadRequestError(f"{name} body is truncated")
        kind, length = header[0], int.from_bytes(header[1:], "little")
        start, offset = offset + 4, offset + 4 + length
        if offset > len(data):
            raise BadRequestError(f"{name} body is truncated")
        if kind in (0x00, 0x01) and length < 4:
            raise BadRequestError(f"{name} chunk has no checksum")
        if kind == 0x00:  # compressed: a checksum, then a snappy block with its preamble
            try:
                size = _snappy_module().decompress_raw_len(view[start + 4 : offset])
            except _cramjam_error() as exc:
                raise BadRequestError(f"{name} chunk is corrupt: {exc}") from exc
        else:  # uncompressed data after its checksum; the other kinds hold no data
            size = length - 4 if kind == 0x01 else 0
        if size > _SNAPPY_MAX_CHUNK:
            raise BadRequestError(f"{name} chunk of {size} bytes is over 65536")
        total += size
        _check_size(name, total, limit)
    return total


def _streamed(
    name: str,
    data: bytes,
    limit: int,
    new: Callable[[], _Stream],
    errors: type[Exception] | tuple[type[Exception], ...],
    *,
    members: bool = False,
) -> bytes:
    """``data`` through decompressors from ``new``, input in and output out a step at a
    time, never past ``limit + 1`` bytes of output. ``members``: a stream that ends with
    input left is followed by another (gzip members, zstd and lz4 frames); otherwise the
    rest is an error."""
    chunks: list[bytes] = []
    size = offset = idle = 0
    view = memoryview(data)
    try:
        stream = new()
        while True:
            feed: bytes | memoryview = b""
            if stream.needs_input and offset < len(data):
                feed = view[offset : offset + _STEP]
                offset += len(feed)
            chunk = stream.decompress(feed, min(limit - size + 1, _STEP))
            size += len(chunk)
            _check_size(name, size, limit)
            chunks.append(chunk)
            if stream.eof:
                # Where this stream's unused input starts, the next one does.
                offset -= len(stream.unused_data or b"")
                if offset >= len(data):
                    break
                if not members:
                    raise BadRequestError(f"{name} body has data after the end of its stream")
                stream = new()
            elif chunk or feed:
                idle = 0
            else:  # a step without input or output: done only if there is no more input
                idle += 1
                if idle > 1 or (stream.needs_input and offset >= len(data)):
                    raise BadRequestError(f"{name} body is truncated")
    except errors as exc:
        raise BadRequestError(f"{name} body is corrupt: {exc}") from exc
    return b"".join(chunks)


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise PayloadTooLargeError(
            f"{name} body decompresses to more than the limit of {limit} bytes"
        )


def _has_zlib_header(data: bytes) -> bool:
    """RFC 1950's two header bytes: method 8 (deflate), and a multiple of 31 together."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0


def _zstd_module() -> Any:
    if sys.version_info >= (3, 14):
        from compression import zstd  # noqa: PLC0415 - on first use
    else:
        from backports import zstd  # noqa: PLC0415 - on first use
    return zstd


def _snappy_module() -> ModuleType:
    import cramjam  # noqa: PLC0415 - on first use: most cold starts never see snappy

    return cramjam.snappy


def _cramjam_error() -> type[Exception]:
    import cramjam  # noqa: PLC0415 - imported already by whoever decodes

    error: type[Exception] = cramjam.DecompressionError
    return error


DECODERS: Mapping[str, Callable[[bytes, int], bytes]] = {
    "gzip": gunzip,
    "zlib": _zlib,
    "deflate": _deflate,
    "zstd": _zstd,
    "lz4": _lz4,
    "snappy": _snappy,
    "x-snappy-framed": _snappy_framed,
}
