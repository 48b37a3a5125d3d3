"""The fuzzed backend: a raw TCP server on 127.0.0.1 that answers each request with the
bytes of an ``Answer``, cut, reset, stalled or dripped as the answer says, and bounded in
time whatever the client does."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

DRIP_BUDGET = 0.05  # seconds of sleeps per dripped answer; the rest then goes at once
CONNECTION_LIFETIME = 3.0  # a connection's handler ends by then, whatever the client does
POLL = 0.05  # how often a blocked handler looks at the clock
JOIN = CONNECTION_LIFETIME + 2  # a handler still alive this long after its start is a bug

Ending = Literal["keep", "close", "rst", "hang"]


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
