"""A stand-in for the Lambda service's Invoke API: it queues the asynchronous invocations
the functions ask for (the probe starting the drain, the drain starting its workers or
continuing itself), and the test runs them, as Lambda would.

The functions reach it through ``AWS_ENDPOINT_URL_LAMBDA``; moto's server cannot run a
function, so it could only refuse these calls.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations$")


@dataclass(frozen=True)
class QueuedInvocation:
    function_name: str  # a name, whether the caller gave a name or an ARN
    payload: dict[str, Any]


class LambdaInvokeQueue:
    def __init__(self) -> None:
        self._queued: list[QueuedInvocation] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def take(self) -> list[QueuedInvocation]:
        """The invocations asked for since the last call, oldest first."""
        with self._lock:
            taken, self._queued = self._queued, []
        return taken

    def _queue(self, invocation: QueuedInvocation) -> None:
        with self._lock:
            self._queued.append(invocation)

    @contextmanager
    def running(self) -> Iterator[LambdaInvokeQueue]:
        queue = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                match = INVOKE_PATH.match(self.path.split("?", 1)[0])
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if match is None or self.headers.get("X-Amz-Invocation-Type") != "Event":
                    # Only asynchronous invokes are expected: anything else is a new call
                    # this stand-in must learn, so it is refused loudly.
                    self._answer(400, {"Type": "User", "message": f"unexpected {self.path}"})
                    return
                name = unquote(match["function"])
                if ":function:" in name:  # an ARN: arn:aws:lambda:<region>:<acct>:function:<name>
                    name = name.split(":function:", 1)[1].split(":", 1)[0]
                queue._queue(QueuedInvocation(name, json.loads(body or b"{}")))
                self._answer(202, None)

            def _answer(self, status: int, error: dict[str, str] | None) -> None:
                data = json.dumps(error).encode() if error else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error:
                    self.send_header("X-Amzn-ErrorType", "InvalidRequestContentException")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # quiet: the test reports what matters
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
