"""Fuzzing the OTLP/HTTP exporter with hostile backend answers.

A raw TCP server on 127.0.0.1 answers each request the exporter sends with bytes hypothesis
chose: a status line (valid, garbage, latin-1, huge numbers, no reason, HTTP/0.9, none),
header bytes (garbage, odd Retry-After and Content-Length values, broken chunking,
duplicates, obs-fold, NUL bytes, over-long lines), a body (google.rpc.Status good and
broken, huge, gzip claimed and not), cut anywhere (FIN, RST, or a stall) and maybe dripped
a few bytes at a time. Whatever arrives, ``export`` (retries on, a short deadline) returns
an ACCEPTED, REJECTED or FAILED result by its deadline, with a Retry-After inside
[0, MAX_RETRY_AFTER] and a short reason: it never raises. ``FUZZ_EXAMPLES`` sets the budget
(``make fuzz`` raises it; CI runs the default); the regression seeds run first, every time.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal, TypeVar

import pytest
from google.rpc import status_pb2
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.exporters.otlphttp import (
    MAX_RESPONSE_BYTES,
    MAX_RETRY_AFTER,
    OtlpHttpExporter,
    new_pool,
)
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.settings.chain import OtlpHttpConfig, RetryConfig
from otlp_failover.signals import Signal

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
# One pytest test runs every example: give it time in proportion to its budget.
pytestmark = pytest.mark.timeout(60 + EXAMPLES // 2)

SLACK = 2.0  # seconds past the deadline a loaded machine may take to return
MAX_REASON = 520  # "HTTP 400: " and at most 500 characters of the backend's message
# The exporter's own retries: short, so a retryable answer costs a fraction of a second.
RETRY = RetryConfig(enabled=True, initial_interval=0.02, max_interval=0.08, max_elapsed_time=0.15)
DRIP_BUDGET = 0.05  # seconds of sleeps per dripped answer; the rest then goes at once
CONNECTION_LIFETIME = 3.0  # a connection's handler ends by then, whatever the client does
POLL = 0.05  # how often a blocked handler looks at the clock
JOIN = CONNECTION_LIFETIME + 2  # a handler still alive this long after its start is a bug
EXPORTER_LOGGER = "otlp_failover.exporters.otlphttp"
STATUS_CLASS = re.compile(r"HTTP (\d)\d\d.*")  # for the statistics: "HTTP 4xx"

Ending = Literal["keep", "close", "rst", "hang"]
TestFunc = TypeVar("TestFunc", bound=Callable[..., Any])


@dataclass(frozen=True)
class Answer:
    """What the server sends for one request, and how."""

    data: bytes
    ending: Ending = "close"  # keep: serve the next request; hang: never send again
    chunk: int = 0  # 0: all at once; else a drip of this many bytes per send
    pause: float = 0.0  # between two drips (their sum is capped at DRIP_BUDGET)
    early: bool = False  # sent before the request is read (closing, it leaves it unread)

    def __repr__(self) -> str:  # a megabyte body would drown a falsifying example
        shown = repr(self.data if len(self.data) <= 400 else self.data[:400])
        if len(self.data) > 400:
            shown += f" + {len(self.data) - 400} more bytes"
        return (
            f"Answer(data={shown}, ending={self.ending!r}, chunk={self.chunk}, "
            f"pause={self.pause}, early={self.early})"
        )


class Plan:
    """The answers of one example, handed out in request order (the last one repeats)."""

    def __init__(self, answers: Sequence[Answer]) -> None:
        self._answers = tuple(answers) or (Answer(b""),)
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> Answer:
        with self._lock:
            answer = self._answers[min(self._next, len(self._answers) - 1)]
            self._next += 1
            return answer


@dataclass
class HostileBackend:
    """A raw TCP server: every connection is answered by the current plan, byte for byte.

    Bounded: it stops accepting after ``lifetime`` seconds, and each connection's handler
    ends within CONNECTION_LIFETIME, so no thread outlives ``stop``."""

    lifetime: float
    listener: socket.socket = field(default_factory=socket.socket)
    plan: Plan = field(default_factory=lambda: Plan(()))
    _stop: threading.Event = field(default_factory=threading.Event)
    _acceptor: threading.Thread | None = None
    _handlers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(POLL)
        self._acceptor = threading.Thread(target=self._accept, name="fuzz-backend", daemon=True)
        self._acceptor.start()

    def serve(self, answers: Sequence[Answer]) -> None:
        self.plan = Plan(answers)

    def settle(self) -> list[threading.Thread]:
        """Wait for every connection's handler to end; the ones still alive (none, if the
        handlers keep their bound)."""
        with self._lock:
            handlers, self._handlers = self._handlers, []
        ends = time.monotonic() + JOIN
        for thread in handlers:
            thread.join(max(0.0, ends - time.monotonic()))
        alive = [thread for thread in handlers if thread.is_alive()]
        with self._lock:
            self._handlers.extend(alive)
        return alive

    def stop(self) -> list[threading.Thread]:
        """Stop accepting and end every handler; the threads still alive (none)."""
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join(JOIN)
        self.listener.close()
        alive = self.settle()
        if self._acceptor is not None and self._acceptor.is_alive():
            alive.append(self._acceptor)
        return alive

    def _accept(self) -> None:
        ends = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue  # the poll timeout, or the listener closed under us
            thread = threading.Thread(
                target=self._handle, args=(conn, self.plan), name="fuzz-answer", daemon=True
            )
            with self._lock:  # started under the lock: settle() never sees it unstarted
                self._handlers.append(thread)
                thread.start()

    def _handle(self, conn: socket.socket, plan: Plan) -> None:
        ends = time.monotonic() + CONNECTION_LIFETIME
        pending = bytearray()
        with conn:
            try:
                first = plan.take()  # taken now: an early answer goes before any request
                if not self._exchange(conn, first, pending, ends, first=True):
                    return
                # Keep-alive: each further request on this connection gets the next answer.
                while self._read_request(conn, pending, ends):
                    if not self._exchange(conn, plan.take(), pending, ends, first=False):
                        return
            except OSError:
                return  # the client cut the connection: what deadlines are for

    def _exchange(
        self, conn: socket.socket, answer: Answer, pending: bytearray, ends: float, *, first: bool
    ) -> bool:
        """Send one answer; True when the connection stays open for another request."""
        early = answer.early and first
        if first and not early and not self._read_request(conn, pending, ends):
            return False
        self._send(conn, answer, ends)
        if answer.ending == "rst":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if answer.ending == "close":
            return False  # an early answer leaves the request unread: the kernel sends RST
        if early and not self._read_request(conn, pending, ends):
            return False
        if answer.ending == "hang":
            self._drain(conn, ends)
            return False
        return True

    def _read_request(self, conn: socket.socket, pending: bytearray, ends: float) -> bool:
        """Read one request (head and Content-Length body); False at EOF or past ``ends``."""
        while b"\r\n\r\n" not in pending:
            if not self._receive(conn, pending, ends):
                return False
        head, _, rest = bytes(pending).partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"0")
        while len(rest) < length:
            before = len(pending)
            if not self._receive(conn, pending, ends):
                return False
            rest += bytes(pending[before:])
        pending[:] = rest[length:]
        return True

    def _receive(self, conn: socket.socket, pending: bytearray, ends: float) -> bool:
        while not self._stop.is_set() and time.monotonic() < ends:
            conn.settimeout(POLL)
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return False
            pending += data
            return True
        return False

    def _drain(self, conn: socket.socket, ends: float) -> None:
        """Read and ignore until the client gives up (or the handler's bound)."""
        ignored = bytearray()
        while self._receive(conn, ignored, ends):
            ignored.clear()

    def _send(self, conn: socket.socket, answer: Answer, ends: float) -> None:
        conn.settimeout(1.0)  # a client that stopped reading: give up, don't block forever
        if not answer.chunk:
            conn.sendall(answer.data)
            return
        slept, offset = 0.0, 0
        while offset < len(answer.data):
            if self._stop.is_set() or time.monotonic() > ends:
                return
            if slept >= DRIP_BUDGET:
                conn.sendall(answer.data[offset:])  # the drip's time is up: the rest at once
                return
            conn.sendall(answer.data[offset : offset + answer.chunk])
            offset += answer.chunk
            time.sleep(answer.pause)
            slept += max(answer.pause, 0.001)  # a drip without pauses still ends


class UnexpectedErrors(logging.Handler):
    """The errors the exporter's last-resort ``except`` caught (and logged): not failures,
    but each is a case the exporter did not foresee, reported as a hypothesis event."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "unexpected error" in record.getMessage():
            self.seen.append(record.getMessage())


@pytest.fixture
def hostile_backend() -> Iterator[HostileBackend]:
    server = HostileBackend(lifetime=120 + EXAMPLES * 2)
    server.start()
    try:
        yield server
    finally:
        alive = server.stop()
    assert not alive, f"server threads outlived the test: {alive}"


@pytest.fixture
def unexpected_errors() -> Iterator[UnexpectedErrors]:
    """Collects the exporter's last-resort errors; quiets urllib3, whose warnings about
    each malformed header block would pile up in pytest's log capture (megabytes per run)."""
    handler = UnexpectedErrors()
    logger, urllib3_logger = logging.getLogger(EXPORTER_LOGGER), logging.getLogger("urllib3")
    level = urllib3_logger.level
    logger.addHandler(handler)
    urllib3_logger.setLevel(logging.ERROR)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        urllib3_logger.setLevel(level)


# --- what a hostile backend sends -------------------------------------------------------

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


# --- the exporter against it ------------------------------------------------------------


def export_body() -> ExportBody:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="fuzz")
    span.trace_id, span.span_id = b"\x07" * 16, b"\x08" * 8
    raw = bytes(request.SerializeToString())
    return ExportBody(Signal.TRACES, MediaType.PROTOBUF, None, request, raw)


def export_to(
    server: HostileBackend, plan: Sequence[Answer], timeout: float, deadline: float
) -> tuple[ExportResult, float]:
    """One export (retries on) to the server answering by ``plan``; the result and the
    seconds it took. An exception out of ``export`` is the bug this fuzzer hunts."""
    server.serve(plan)
    config = OtlpHttpConfig(name="otlphttp/fuzz", endpoint=server.url, timeout=timeout, retry=RETRY)
    exporter = OtlpHttpExporter(config, new_pool())
    try:
        started = time.monotonic()
        result = exporter.export(export_body(), started + deadline, retry=True)
        took = time.monotonic() - started
    finally:
        exporter.close()
        alive = server.settle()
    assert not alive, f"a connection handler outlived its bound: {alive}"
    return result, took


def check(result: ExportResult, took: float, deadline: float) -> None:
    assert isinstance(result, ExportResult)
    assert result.outcome in (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.FAILED)
    assert took < deadline + SLACK, f"returned {took - deadline:.2f}s past its deadline"
    if result.retry_after is not None:
        assert 0 <= result.retry_after <= MAX_RETRY_AFTER, result.retry_after
    assert isinstance(result.reason, str) and 0 < len(result.reason) <= MAX_REASON
    assert result.attempts >= 1
    assert len(result.body) <= MAX_RESPONSE_BYTES
    if result.outcome is Outcome.ACCEPTED:
        assert result.status is not None and 200 <= result.status < 300, result.status
    if result.outcome is Outcome.REJECTED:
        assert result.status in (400, 413), result.status


def ok(head: bytes, body: bytes = b"") -> bytes:
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


# Regression seeds: hand-written hostile answers, each run first by the fuzz target and
# checked for its own expected result by test_regression_seeds.
SEEDS: dict[str, tuple[Answer, Outcome, int | None, float | None]] = {
    "retry-after-superscript-two": (
        Answer(ok(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: \xb2\r\n")),
        Outcome.FAILED,
        503,
        None,
    ),
    "retry-after-400-nines": (
        Answer(ok(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: " + b"9" * 400 + b"\r\n")),
        Outcome.FAILED,
        429,
        float(MAX_RETRY_AFTER),
    ),
    "header-drip": (
        Answer(ok(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 200 + b"\r\n"), chunk=1, pause=0.001),
        Outcome.ACCEPTED,
        200,
        None,
    ),
    "body-drip": (
        Answer(
            ok(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n", b"\0" * 2000),
            chunk=3,
            pause=0.002,
        ),
        Outcome.ACCEPTED,
        200,
        None,
    ),
    "no-status-line": (Answer(b""), Outcome.FAILED, None, None),
    "http-0.9": (Answer(b"<html>hello</html>"), Outcome.FAILED, None, None),
    "gzip-claimed-not-gzip": (
        Answer(ok(b"HTTP/1.1 400 Bad Request\r\nContent-Encoding: gzip\r\n", b"not gzip")),
        Outcome.REJECTED,
        400,
        None,
    ),
}
TIMEOUT, DEADLINE = 0.5, 1.5  # the seeds' attempt timeout and deadline, in seconds


def with_seeds(test: TestFunc) -> TestFunc:
    for answer, *_ in SEEDS.values():
        test = example(plan=[answer], timeout=TIMEOUT, deadline=DEADLINE)(test)
    return test


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(
    plan=st.lists(answers(), min_size=1, max_size=3),
    timeout=st.sampled_from([0.2, 0.4]),
    deadline=st.sampled_from([0.3, 0.8, 1.5]),
)
@with_seeds
def test_whatever_a_backend_sends_export_returns_by_its_deadline(
    hostile_backend: HostileBackend,
    unexpected_errors: UnexpectedErrors,
    plan: list[Answer],
    timeout: float,
    deadline: float,
) -> None:
    result, took = export_to(hostile_backend, plan, timeout, deadline)
    event(result.outcome.value + ": " + STATUS_CLASS.sub(r"HTTP \1xx", result.reason))
    event(f"attempts: {result.attempts}" if result.attempts < 5 else "attempts: 5 or more")
    if result.attempts > 20:  # a Retry-After of 0 (or a past date) is retried at once
        event("attempts: more than 20")
    if result.retry_after is not None:
        event(f"retry_after: {min(result.retry_after, 2):.0f}")
    if took > deadline + 0.1:
        event("returned more than 0.1 s past its deadline")
    for message in unexpected_errors.seen:
        event(f"caught by the last resort: {message}")
    unexpected_errors.seen.clear()
    check(result, took, deadline)


@pytest.mark.parametrize("name", list(SEEDS))
def test_regression_seeds(hostile_backend: HostileBackend, name: str) -> None:
    answer, outcome, status, retry_after = SEEDS[name]
    result, took = export_to(hostile_backend, [answer], TIMEOUT, DEADLINE)
    check(result, took, DEADLINE)
    assert (result.outcome, result.status, result.retry_after) == (outcome, status, retry_after)


NEGATIVE_CHUNK = b"Transfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n"


@pytest.mark.parametrize(("status", "outcome"), [(200, Outcome.ACCEPTED), (400, Outcome.REJECTED)])
def test_a_broken_chunk_size_keeps_the_status_that_arrived(
    hostile_backend: HostileBackend, status: int, outcome: Outcome
) -> None:
    # otlphttp.py: "A status and headers read whole count, even if the body is cut later".
    answer = Answer(b"HTTP/1.1 %d Whatever\r\n" % status + NEGATIVE_CHUNK)
    result, took = export_to(hostile_backend, [answer], TIMEOUT, DEADLINE)
    check(result, took, DEADLINE)
    assert (result.outcome, result.status, result.attempts) == (outcome, status, 1)
