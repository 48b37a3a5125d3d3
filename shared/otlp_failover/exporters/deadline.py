"""Absolute deadlines for backend calls: connect, send, status, headers and body together.

urllib3's ``Timeout(total=...)`` bounds each socket operation, not the request: a backend
that drips one header byte every 0.4 s holds an export for as long as it likes. Here one
watchdog thread keeps the deadlines of the calls in flight; when one passes, it shuts
down that call's sockets, so the blocked read returns at once and urllib3 raises. The
exporter sets the deadline of the call (``guarded``) and the pool's connection classes
register their sockets with it, the fresh ones at connect and the pooled ones per request.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

log = logging.getLogger(__name__)


class Guard:
    """One call's deadline and the sockets it uses; ``fired`` once the deadline cut them."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _cut(sock)

    def fire(self) -> None:
        # Cut under the lock: finish() then waits for a cut in progress, so a connection
        # going back to the pool is either whole or known to be cut.
        with self._lock:
            if self.done:
                return
            self.fired = True
            for sock in self._sockets:
                _cut(sock)

    def finish(self) -> bool:
        """End the watch; True when the deadline had cut the call first. After this the
        guard never fires, so a connection the call leaves whole may go back to the pool."""
        with self._lock:
            self.done = True
            self._sockets.clear()
            return self.fired


def _cut(sock: socket.socket) -> None:
    # The base class's shutdown: an SSLSocket's own would drop its TLS state under the
    # reader's feet; shutting the descriptor down wakes the reader all the same. A closed
    # or detached socket has nothing left to cut.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """Fires each guard at its deadline (``time.monotonic``), from one daemon thread."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def guard(self, deadline: float) -> Guard:
        guard = Guard(deadline)
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline, next(self._order), guard))
            if earliest is None or deadline < earliest:
                self._wake.notify()
        return guard

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    if not self._heap:
                        self._wake.wait()
                    else:
                        self._wake.wait(self._heap[0][0] - time.monotonic())
                _, _, guard = heapq.heappop(self._heap)
            try:
                guard.fire()
            except Exception:
                log.exception("cutting a call at its deadline failed")


WATCHDOG = Watchdog()
_current: contextvars.ContextVar[Guard | None] = contextvars.ContextVar("guard", default=None)


@contextmanager
def guarded(deadline: float, watchdog: Watchdog = WATCHDOG) -> Iterator[Guard]:
    """Every connection used inside the block is cut at ``deadline`` (monotonic)."""
    guard = watchdog.guard(deadline)
    token = _current.set(guard)
    try:
        yield guard
    finally:
        _current.reset(token)
        guard.finish()


class _Watched:
    """Registers the connection's sockets with the guard of the call using it."""

    sock: socket.socket | None
    _guard: Guard | None = None

    def leave_guard(self) -> bool:
        """End the watch of the call that used this connection, as it goes back to the
        pool (urllib3 does that inside the read that finishes the body, before the call
        ends); False when its deadline cut it, and the connection must not be reused."""
        guard, self._guard = self._guard, None
        return guard is None or not guard.finish()

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self._register(sock)  # the raw socket: a TLS handshake that hangs is cut too
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._register(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._register(self.sock)  # a pooled connection: this call's guard, not the last's
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _register(self, sock: socket.socket | None) -> None:
        guard = _current.get()
        if guard is not None:
            self._guard = guard
            guard.watch(sock)


class WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _Pooling:
    def _put_conn(self, conn: Any) -> None:
        cut = isinstance(conn, _Watched) and not conn.leave_guard()
        if cut and isinstance(conn, HTTPConnection):
            conn.close()  # cut at its deadline: the next call connects afresh
        super()._put_conn(conn)  # type: ignore[misc]


class _HTTPPool(_Pooling, HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _HTTPSPool(_Pooling, HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


def watched_pool(pool_size: int = 16) -> urllib3.PoolManager:
    """Keep-alive connections whose calls honour ``guarded`` deadlines. Retries and redirects
    are off: the exporter retries by the OTLP rules itself, and a redirect is a
    misconfiguration."""
    manager = urllib3.PoolManager(num_pools=8, maxsize=pool_size, retries=False, block=False)
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager
