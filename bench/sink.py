"""A minimal, fast OTLP/HTTP sink: reads each request body, answers 200, decodes nothing.

The forward-overhead ratio divides by the time of posting straight to this sink, so the
faster the sink, the larger the gateway's share of the time and the stricter the ratio
(``otlp_failover_dev.local.backend`` decodes every export, which would add the same cost to
both sides and flatter the ratio). It speaks HTTP/1.1 keep-alive with Content-Length
bodies, as requests and curl send them, and answers an empty ``Export*ServiceResponse``
in the request's media type: zero bytes for protobuf, ``{}`` for JSON.

Run as ``python -m bench.sink``: it prints ``port <n>`` and serves until stdin closes.
``GET /stats`` answers ``{"requests": n, "bytes": n}`` (bodies of POSTs only).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson

_PROTOBUF_REPLY = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
)
_JSON_REPLY = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


class _Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0

    def reply(self) -> bytes:
        body = orjson.dumps({"requests": self.requests, "bytes": self.bytes})
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        return head.encode() + b"\r\n\r\n" + body


class _SinkProtocol(asyncio.Protocol):
    def __init__(self, stats: _Stats) -> None:
        self._stats = stats
        self._buffer = bytearray()
        self._remaining = 0  # body bytes of the current request still to read
        self._reply = b""
        self._transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._remaining:
            taken = min(len(data), self._remaining)
            self._remaining -= taken
            if self._remaining:
                return
            self._transport.write(self._reply)
            data = data[taken:]
        self._buffer += data
        while not self._remaining:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).lower()
            del self._buffer[: end + 4]
            length = _content_length(head)
            if head.startswith(b"get /stats"):
                self._reply = self._stats.reply()
            else:
                self._stats.requests += 1
                self._stats.bytes += length
                self._reply = _JSON_REPLY if b"application/json" in head else _PROTOBUF_REPLY
            taken = min(len(self._buffer), length)
            del self._buffer[:taken]
            self._remaining = length - taken
            if not self._remaining:
                self._transport.write(self._reply)


def _content_length(head: bytes) -> int:
    start = head.find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    start += len(b"\r\ncontent-length:")
    end = head.find(b"\r\n", start)
    return int(head[start : end if end >= 0 else len(head)])


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    stats = _Stats()
    server = await loop.create_server(lambda: _SinkProtocol(stats), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"port {port}\n")
    sys.stdout.flush()
    # Serve until the parent closes our stdin (or ends the process).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(_serve())
