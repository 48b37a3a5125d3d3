"""What a local HTTP proxy passes on and what it keeps to itself: shared by the chaos fault
proxy (``chaos/proxy.py``) and the bench's latency proxy (``bench/latency_proxy.py``)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Connection-level headers belong to one hop; the proxy sets its own Content-Length.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "expect", "te", "upgrade"}
)
_OWN = ("server", "date")  # http.server writes its own


def end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers that go on to the next hop."""
    return [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]


def send_reply(
    handler: BaseHTTPRequestHandler, status: int, headers: Iterable[tuple[str, str]], body: bytes
) -> None:
    """Answer the handler's request with ``status``, ``headers`` and ``body``."""
    handler.send_response(status)
    for name, value in headers:
        if name.lower() not in _OWN:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class RelayServer(ThreadingHTTPServer):
    """A threaded server for which a connection closed early is routine (a client giving
    up, a reset the proxy made itself): only other errors are printed."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)
