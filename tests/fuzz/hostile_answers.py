"""What a hostile backend sends: hypothesis strategies for status lines, header bytes,
bodies, framings and whole ``Answer``s."""

from __future__ import annotations

import gzip
import json
import time
from email.utils import formatdate

from google.rpc import status_pb2
from hypothesis import strategies as st

from otlp_failover.exporters.otlphttp import MAX_RESPONSE_BYTES
from tests.fuzz.hostile_backend import Answer, Ending

STATUS_CODES = [200, 202, 204, 206, 299, 301, 304, 400, 400, 401, 403, 404, 408, 413, 413]
STATUS_CODES += [415, 429, 429, 500, 502, 503, 503, 504, 599]
REASONS = [b"OK", b"Service Unavailable", b"", b"\xc9chec \xb2", "Überlastet".encode(), None]
ODD_STATUS_LINES = [
    b"HTTP/1.1 2\xb200 OK",
    b"HTTP/1.1 \xb2\xb2\xb2 OK",
    "HTTP/1.1 \uff12\uff10\uff10 OK".encode(),  # fullwidth digits
    b"HTTP/1.1 200 \xff\xfe\xfd",
    b"HTTP/1.1 -200 OK",
    b"HTTP/1.1 +200 OK",
    b"HTTP/1.1 2_00 OK",
    b"HTTP/1.1 0200 OK",
    b"HTTP/1.1 20 OK",
    b"HTTP/1.1 1000 OK",
    b"HTTP/1.1 099 OK",
    b"HTTP/1.1 200\x00OK",
    b"HTTP/1.1\x00200 OK",
    b"HTTP/1.1 \t200 OK",
    b"\x00\x00\x00\x00",
    b"\xef\xbb\xbfHTTP/1.1 200 OK",  # a UTF-8 byte order mark
]
VERSIONS = [
    b"HTTP/2 200",
    b"HTTP/2.0 200 OK",
    b"HTTP/1.2 200 OK",
    b"HTTP/0.9 200 OK",
    b"http/1.1 200 OK",
    b"HTTP/1.1  200  OK",
    b"HTTP/ 200 OK",
    b"HTTP/1.1 200OK",
    b" HTTP/1.1 200 OK",
    b"ICY 200 OK",
    b"HTTP/1.1",
    b"HTTP/1.1 ",
    b"HTTP/1.1 OK 200",
    b"RTSP/1.0 200 OK",
]
RETRY_AFTERS = [
    b"0",
    b"1",
    b"5",
    b"120",
    b"301",
    b"\xb2",  # '²' in latin-1: str.isdigit() says yes, int() says no
    b"\xb9",
    b"1\xb2",
    "²".encode(),
    b"9" * 400,
    b"9" * 5000,
    b"-1",
    b"-0",
    b"1.5",
    b"1e3",
    b" 7 ",
    b"0x10",
    b"",
    b"\x00",
    b"\xff",
    b"5, 6",
    b"now",
    b"Wed, 21 Oct 2015 07:28:00 GMT",
    b"Fri, 31 Dec 9999 23:59:59 GMT",
    b"Fri, 31 Dec 9999 23:59:59 -2359",
    b"Sat, 01 Jan 0000 00:00:00 GMT",
    b"Mon, 32 Foo 2024 25:61:61 GMT",
    b"Sun, 06 Nov 1994 08:49:37 -0000",
    b"Sunday, 06-Nov-94 08:49:37 GMT",
    b"Sun Nov  6 08:49:37 1994",
    b"Tue, 15 Nov 1994 08:12:31 +9999",
    b"Tue, 15 Nov 99999999999 08:12:31 GMT",
]
CONTENT_LENGTHS = [b"0", b"-1", b"-0", b"1" * 30, b"9" * 5000, b"abc", b"5, 5", b"5, 6"]
CONTENT_LENGTHS += [b" 7 ", b"+5", b"0x10", b"", b"\xb2", b"1e3", b"100000000"]
TRANSFER_ENCODINGS = [b"chunked", b"gzip, chunked", b"identity", b"chunked, chunked"]
TRANSFER_ENCODINGS += [b"CHUNKED", b"chunked, gzip", b"x-unknown", b""]
CONTENT_ENCODINGS = [b"gzip", b"x-gzip", b"deflate", b"br", b"zstd", b"gzip, gzip"]
CONTENT_ENCODINGS += [b"gzip, deflate", b"identity", b"compress", b"\xb2", b""]
CONTENT_TYPES = [b"application/x-protobuf", b"application/json", b"APPLICATION/JSON"]
CONTENT_TYPES += [b"application/json; charset=utf-8", b"text/plain", b"", b"\x00"]
CONTENT_TYPES += [b"application/x-protobuf; \xff"]
ODD_HEADER_LINES = [
    b"NoColonHere",
    b"Retry-After : 5",
    b": empty-name",
    b"Bad Name: x",
    b" leading-space: x",
    b"X-Nul: a\x00b",
    b"\x00: \x00",
    b"Retry-After: 5\x00",
    b"X-Latin: \xe9t\xe9 \xb2",
    b"\xb2: \xb2",
    b"X-Empty:",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Keep-Alive: timeout=0, max=0",
    b"Trailer: X-Trailer",
    b"Content-Range: bytes */*",
]
BROKEN_JSON_STATUSES = [
    b'{"code": "3", "message": "x"}',
    b'{"code": 3, "message": 5}',
    b'{"code": 1e999, "message": "x"}',
    b'{"code": 99999999999999999999, "message": "x"}',
    b'{"code": 3, "message": "\\ud800"}',
    b'{"code": 3, "message": "\xff\xfe"}',
    b'{"code": 3, "message": "x", "details": [{"@type": "nonsense"}]}',
    b"[]",
    b"null",
    b"{",
    b"[" * 5000,
    b'{"message": "' + b"m" * 100_000 + b'"}',
]
# Decompresses to 16 MiB of zeros from some 16 KiB: gzip claimed and true, but a bomb.
GZIP_BOMB = gzip.compress(b"\0" * (16 << 20), compresslevel=9)
EOLS = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n"])


@st.composite
def status_lines(draw: st.DrawFn) -> bytes:
    eol = draw(EOLS)
    kind = draw(
        st.sampled_from(["valid"] * 6 + ["interim", "garbage", "odd", "huge", "version", "long"])
    )
    if kind == "valid":
        return valid_status(draw, eol)
    if kind == "interim":  # 100 Continue is skipped by the client; 103 is taken as final
        interim = draw(st.sampled_from([b"HTTP/1.1 100 Continue", b"HTTP/1.1 103 Early Hints"]))
        hints = draw(st.sampled_from([b"", b"Link: </style.css>" + eol]))
        return (interim + eol + hints + eol) * draw(st.integers(1, 3)) + valid_status(draw, eol)
    if kind == "garbage":
        return draw(st.binary(max_size=80)) + eol
    if kind == "odd":
        return draw(st.sampled_from(ODD_STATUS_LINES)) + eol
    if kind == "huge":
        digits = draw(st.sampled_from([b"9", b"2", b"0"])) * draw(
            st.sampled_from([4, 19, 20, 400, 4301, 5000])
        )
        return b"HTTP/1.1 " + digits + b" OK" + eol
    if kind == "version":
        return draw(st.sampled_from(VERSIONS)) + eol
    return b"HTTP/1.1 200 " + b"O" * draw(st.sampled_from([65_530, 70_000])) + eol


def valid_status(draw: st.DrawFn, eol: bytes) -> bytes:
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]))
    any_code = draw(st.sampled_from([False, False, False, True]))
    code = draw(st.integers(100, 999) if any_code else st.sampled_from(STATUS_CODES))
    reason = draw(st.sampled_from(REASONS))
    line = version + b" " + str(code).encode()
    return line + (b"" if reason is None else b" " + reason) + eol


def http_date(offset: int) -> bytes:
    return formatdate(time.time() + offset, usegmt=True).encode()


@st.composite
def header_lines(draw: st.DrawFn, eol: bytes) -> list[bytes]:
    retry_after = st.sampled_from(RETRY_AFTERS) | st.integers(-(10**9), 10**10).map(http_date)
    no_crlf = st.binary(max_size=60).map(lambda b: b.translate(None, b"\r\n"))
    line = st.one_of(
        retry_after.map(lambda v: b"Retry-After: " + v),
        st.sampled_from(CONTENT_LENGTHS).map(lambda v: b"Content-Length: " + v),
        st.sampled_from(TRANSFER_ENCODINGS).map(lambda v: b"Transfer-Encoding: " + v),
        st.sampled_from(CONTENT_ENCODINGS).map(lambda v: b"Content-Encoding: " + v),
        st.sampled_from(CONTENT_TYPES).map(lambda v: b"Content-Type: " + v),
        st.sampled_from(ODD_HEADER_LINES),
        st.tuples(no_crlf.map(lambda b: b.replace(b":", b"")), no_crlf).map(b": ".join),
        st.binary(max_size=60),  # anything at all, CR and LF included
        st.tuples(  # obs-fold: a line that goes on on the next one
            st.sampled_from([b"X-Fold: a", b"Retry-After: 5", b"Content-Length: 1"]),
            st.sampled_from([b" b", b"\t6", b" "]),
        ).map(lambda pair: pair[0] + eol + pair[1]),
    )
    lines = draw(st.lists(line, max_size=6))
    duplicate = draw(st.booleans())
    if lines and duplicate:
        lines.append(draw(st.sampled_from(lines)))  # a duplicate
    if draw(st.sampled_from([False] * 12 + [True])):
        lines += [b"X-Flood-%d: x" % i for i in range(draw(st.sampled_from([99, 101, 1000])))]
    if draw(st.sampled_from([False] * 12 + [True])):  # over-long: http.client's limit is 64 KiB
        lines.append(b"X-Long: " + b"a" * draw(st.sampled_from([60_000, 66_000])))
    return [line + eol for line in lines]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A body, and the header lines that claim what it is."""
    kind = draw(
        st.sampled_from(
            [
                *["empty", "rpc-proto", "rpc-proto", "rpc-json", "rpc-json", "broken-proto"],
                *["broken-json", "huge", "fake-gzip", "gzip", "bomb", "random"],
            ]
        )
    )
    proto = [b"Content-Type: application/x-protobuf"]
    as_json = [b"Content-Type: application/json"]
    message = st.text(max_size=600)
    if kind == "empty":
        return b"", []
    if kind == "rpc-proto":
        status = status_pb2.Status(code=draw(st.integers(0, 16)), message=draw(message))
        return bytes(status.SerializeToString()), proto
    if kind == "rpc-json":
        document = {"code": draw(st.integers(-(2**31), 2**31 - 1)), "message": draw(message)}
        return json.dumps(document, ensure_ascii=draw(st.booleans())).encode(), as_json
    if kind == "broken-proto":
        good = status_pb2.Status(code=3, message="broken " * 20).SerializeToString()
        cut = good[: draw(st.integers(0, len(good) - 1))]
        return draw(st.sampled_from([cut, b"\xff" * 12, b"\x0a\xff\xff\xff\xff\x0f"])), proto
    if kind == "broken-json":
        return draw(st.sampled_from(BROKEN_JSON_STATUSES)), as_json
    if kind == "huge":
        size = draw(st.sampled_from([MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES + 1, 200_000]))
        return b"x" * draw(st.sampled_from([size, 1_000_000])), []
    if kind == "fake-gzip":
        encoding = draw(st.sampled_from([b"gzip", b"deflate", b"x-gzip"]))
        return draw(st.binary(max_size=200)), [b"Content-Encoding: " + encoding]
    if kind == "gzip":
        inner = json.dumps({"code": 3, "message": draw(message)}).encode()
        packed = gzip.compress(inner)
        packed = packed[: draw(st.integers(0, len(packed)))]  # whole, or truncated
        return packed, [*as_json, b"Content-Encoding: gzip"]
    if kind == "bomb":
        return GZIP_BOMB, [*proto, b"Content-Encoding: gzip"]
    return draw(st.binary(max_size=512)), []


def chunked(draw: st.DrawFn, body: bytes, eol: bytes) -> bytes:
    size = draw(st.integers(1, 4096))
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    wire = b"".join(b"%x" % len(piece) + eol + piece + eol for piece in pieces)
    last = b"0" + eol + eol
    mutation = draw(
        st.sampled_from(
            [None] * 3
            + ["bad-size", "negative", "huge-size", "no-crlf", "no-last", "extension"]
            + ["trailer", "short", "empty-size", "0x"]
        )
    )
    if mutation == "bad-size":
        return b"zz" + eol + wire + last
    if mutation == "negative":
        return b"-5" + eol + body[:5] + eol + last
    if mutation == "huge-size":
        return b"f" * 40 + eol + body + eol + last
    if mutation == "no-crlf":
        return b"%x" % len(body) + eol + body + last
    if mutation == "no-last":
        return wire
    if mutation == "extension":
        return b"%x;ext=\xb2" % len(body) + eol + body + eol + last
    if mutation == "trailer":
        return wire + b"0" + eol + b"X-Trailer: \xb2" + eol + eol
    if mutation == "short":
        return b"%x" % (len(body) + 10) + eol + body + eol + last
    if mutation == "empty-size":
        return eol + wire + last
    if mutation == "0x":
        return b"0x%x" % len(body) + eol + body + eol + last
    return wire + last


@st.composite
def framed(draw: st.DrawFn, body: bytes, eol: bytes) -> tuple[bytes, list[bytes]]:
    """The body on the wire, and its framing header lines."""
    framing = draw(st.sampled_from(["length", "length", "none", "lying", "chunked", "chunked"]))
    if framing == "length":
        return body, [b"Content-Length: %d" % len(body) + eol]
    if framing == "none":  # read until the connection closes (or never, when it hangs)
        return body, []
    if framing == "lying":
        lie = len(body) + draw(st.sampled_from([-5, -1, 1, 1000]))
        return body, [b"Content-Length: %d" % lie + eol]
    return chunked(draw, body, eol), [b"Transfer-Encoding: chunked" + eol]


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    shape = draw(st.sampled_from(["http"] * 8 + ["http09", "nothing"]))
    regions: list[tuple[int, int]] = []
    if shape == "nothing":
        data = b""
    elif shape == "http09":  # no status line: the body straight away
        data, _ = draw(bodies())
    else:
        eol = draw(EOLS)
        status = draw(status_lines())
        body, claims = draw(bodies())
        wire, framing = draw(framed(body, eol))
        lines = [line + eol for line in claims] + draw(header_lines(eol)) + framing
        lines = draw(st.permutations(lines))
        blank = draw(st.sampled_from([eol] * 5 + [b""]))  # b"": the headers never end
        head = status + b"".join(lines) + blank
        data = head + wire
        regions = [(0, len(status)), (len(status), len(head)), (len(head), len(data))]
    cut = draw(st.sampled_from([None] * 5 + [0, 1, 2]))
    if cut is not None and cut < len(regions) and regions[cut][0] < regions[cut][1]:
        data = data[: draw(st.integers(*regions[cut]))]  # truncated: mid-status/headers/body
    ending: Ending = draw(st.sampled_from(["keep", "keep", "close", "close", "rst", "hang"]))
    chunk, pause = 0, 0.0
    if draw(st.sampled_from([False, False, False, True])):  # a drip
        chunk = draw(st.integers(1, 64))
        pause = draw(st.sampled_from([0.0, 0.001, 0.005, 0.01]))
    early = draw(st.sampled_from([False] * 5 + [True]))
    return Answer(data, ending, chunk, pause, early)
