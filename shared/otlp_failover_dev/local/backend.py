"""A real OTLP/HTTP backend on 127.0.0.1 that records what it accepts and fails on command.

The functional tests, the local stack's demo primary and ``make demo`` use it. Modes, set
with ``set_mode(name, **options)`` or ``POST /control {"mode": name, ...options}``:

    healthy   200 with an Export*ServiceResponse in the request's content type (empty, or
              a partial success with ``partial_rejected`` items and ``partial_message``);
              400 for exports whose decoded payload contains ``reject_containing``
    refuse    the listening socket is closed: connections are refused (same port when back)
    reset     the connection is accepted, then reset mid-request
    status    answers ``status`` (503 by default) with a google.rpc.Status body
    throttle  429 with ``Retry-After: retry_after``
    hang      no answer until ``delay`` (1 h) passes or the backend stops: client timeouts
    slow      waits ``delay`` (1 s), then answers 200
    drip      sends its status line, then one header byte every ``period`` seconds, for
              ``delay`` (1 h) or until the client gives up: per-read timeouts never fire
    garbage   503 with ``Retry-After: retry_after_text`` (by default "\u00b2", a latin-1
              byte that passes str.isdigit)
    flap      alternates ``fail`` (another mode) and healthy every ``period`` seconds

Apart from the mode, the backend can demand credentials, as a SaaS backend does:
``require_headers({"Authorization": ["Bearer old", "Bearer new"]})`` or
``POST /control {"require_headers": {...}}`` (a value or a list of accepted values per
header; ``{}`` demands nothing). An export the mode lets through is answered 401 without
them; a rotation is rehearsed by changing what the backend accepts.

``GET /control`` returns the counters (and the names of the demanded headers, never their
values). The control endpoint also has a port of its own (``control_url``), so a separate
process can heal a backend that refuses connections.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Self

from otlp_failover.settings.environment import DEFAULT_MAX_DECOMPRESSED_BYTES
from otlp_failover.signals import Signal
from otlp_failover_dev.commands import arguments
from otlp_failover_dev.local import wait_for_termination
from otlp_failover_dev.local._receiver import ReceivedExport, ReceiverServer

__all__ = ["MODES", "Mode", "OtlpBackend", "ReceivedExport", "main"]

log = logging.getLogger(__name__)

MODES = (
    "healthy",
    "refuse",
    "reset",
    "status",
    "throttle",
    "hang",
    "slow",
    "drip",
    "garbage",
    "flap",
)


@dataclass(frozen=True)
class Mode:
    name: str = "healthy"
    status: int = 503
    retry_after: int = 1
    delay: float | None = None
    fail: str = "status"
    period: float = 1.0
    partial_rejected: int = 0  # healthy answers report this many items rejected (partial success)
    partial_message: str = ""
    reject_containing: str = ""  # healthy answers 400 to an export whose payload holds this text
    retry_after_text: str = "\u00b2"  # what garbage sends as Retry-After

    def __post_init__(self) -> None:
        # Values may come from JSON (POST /control): normalise them once, here.
        for name, kind in (
            ("status", int),
            ("retry_after", int),
            ("period", float),
            ("partial_rejected", int),
        ):
            object.__setattr__(self, name, kind(getattr(self, name)))
        if self.delay is not None:
            object.__setattr__(self, "delay", float(self.delay))
        if self.name not in MODES:
            raise ValueError(f"unknown mode {self.name!r}; one of {', '.join(MODES)}")
        if self.fail not in MODES or self.fail in ("flap", "healthy"):
            raise ValueError(f"flap needs a failure mode to alternate with, not {self.fail!r}")
        if not 100 <= self.status <= 599 or self.retry_after < 0:
            raise ValueError("status must be an HTTP status and retry_after >= 0")
        if self.period <= 0 or (self.delay is not None and self.delay < 0):
            raise ValueError("period must be > 0 and delay >= 0")

    @property
    def wait(self) -> float:
        """Seconds ``slow`` delays and ``hang`` holds a request."""
        if self.delay is not None:
            return self.delay
        return 3600.0 if self.name in ("hang", "drip") else 1.0


class OtlpBackend:
    """Start with ``start()`` or ``with``; ``port=0`` picks a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = 0,
        max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    ) -> None:
        self.host = host
        self.port = port
        self.control_port = control_port
        self.max_decompressed_bytes = max_decompressed_bytes
        self._mode = self._active = Mode()
        self._listener: ReceiverServer | None = None
        self._control: ReceiverServer | None = None
        self.stopping = threading.Event()  # set by stop(): wakes hanging and slow requests
        self._flap_stop = threading.Event()
        self._flapper: threading.Thread | None = None
        self._mode_lock = threading.Lock()  # one mode change at a time
        self._listener_lock = threading.Lock()  # the flap thread opens and closes it too
        self._records = threading.Condition()
        self._required: dict[str, tuple[str, ...]] = {}  # header name (lower case) -> accepted
        self.clear()

    @property
    def url(self) -> str:
        """The base URL, as for OTEL_EXPORTER_OTLP_ENDPOINT."""
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        port = self.control_port if self.control_port is not None else self.port
        return f"http://{self.host}:{port}/control"

    def endpoint(self, signal: Signal | str) -> str:
        return self.url + Signal(signal).path

    def start(self) -> Self:
        self.stopping.clear()
        self._listener = self._serve(self.port)
        self.port = self._listener.server_address[1]
        if self.control_port is not None:
            self._control = self._serve(self.control_port)
            self.control_port = self._control.server_address[1]
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._stop_flap()
        with self._listener_lock:
            for server in (self._listener, self._control):
                if server is not None:
                    server.shutdown()
                    server.server_close()
            self._listener = self._control = None

    def __enter__(self) -> Self:
        return self if self._listener is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def mode(self) -> Mode:
        """The mode last set (``flap`` while flapping)."""
        return self._mode

    @property
    def active_mode(self) -> Mode:
        """The mode requests get now (one phase of a flap)."""
        return self._active

    def set_mode(self, mode: str | Mode = "healthy", **options: Any) -> Mode:
        new = mode if isinstance(mode, Mode) else Mode(name=mode, **options)
        with self._mode_lock:
            self._stop_flap()
            self._mode = new
            if new.name == "flap":
                self._flap_stop = threading.Event()
                self._flapper = threading.Thread(
                    target=self._flap, args=(new, self._flap_stop), name="backend-flap", daemon=True
                )
                self._flapper.start()
            else:
                self._apply(new)
        return new

    def require_headers(self, required: Mapping[str, str | Sequence[str]]) -> None:
        """Answer 401 unless each header has one of its accepted values; ``{}``: no demand."""
        demanded: dict[str, tuple[str, ...]] = {}
        for name, accepted in required.items():
            values = (accepted,) if isinstance(accepted, str) else tuple(accepted)
            if not name or not values or not all(isinstance(v, str) and v for v in values):
                raise ValueError(f"require_headers: {name!r} needs a value or a list of values")
            demanded[name.lower()] = values
        self._required = demanded

    def credentials_ok(self, headers: Mapping[str, str]) -> bool:
        """``headers`` with lower-case names."""
        return all(
            any(hmac.compare_digest(headers.get(name, ""), value) for value in accepted)
            for name, accepted in self._required.items()
        )

    def clear(self) -> None:
        with self._records:
            self.requests_seen = 0
            self.unauthorized = 0
            self._exports: list[ReceivedExport] = []

    @property
    def exports(self) -> list[ReceivedExport]:
        with self._records:
            return list(self._exports)

    @property
    def accepted_exports(self) -> int:
        return len(self.exports)

    def accepted_items(self, signal: Signal | str | None = None) -> int:
        return sum(e.items for e in self.exports if signal is None or e.signal == signal)

    def wait_for_items(self, signal: Signal | str, count: int, timeout: float = 10.0) -> bool:
        """Whether ``count`` items of ``signal`` arrived within ``timeout`` (SDKs export async)."""
        with self._records:
            return self._records.wait_for(lambda: self.accepted_items(signal) >= count, timeout)

    def stats(self) -> dict[str, Any]:
        exports = self.exports
        return {
            "mode": asdict(self._mode),
            "active": self._active.name,
            "requests": self.requests_seen,
            "unauthorized": self.unauthorized,
            "required_headers": sorted(self._required),  # names only: values are credentials
            "accepted": len(exports),
            "exports": {s.value: sum(e.signal == s for e in exports) for s in Signal},
            "items": {s.value: sum(e.items for e in exports if e.signal == s) for s in Signal},
        }

    def _serve(self, port: int) -> ReceiverServer:
        server = ReceiverServer((self.host, port), self)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return server

    def _apply(self, mode: Mode) -> None:
        with self._listener_lock:
            self._active = mode
            if mode.name == "refuse" and self._listener is not None:
                self._listener.shutdown()
                self._listener.server_close()
                self._listener = None
            elif mode.name != "refuse" and self._listener is None and not self.stopping.is_set():
                self._listener = self._serve(self.port)

    def _flap(self, mode: Mode, stop: threading.Event) -> None:
        failing = True
        while not stop.is_set():
            try:
                self._apply(replace(mode, name=mode.fail) if failing else Mode())
            except OSError:
                log.exception("flap could not re-open port %s", self.port)
            failing = not failing
            stop.wait(mode.period)

    def _stop_flap(self) -> None:
        self._flap_stop.set()
        if self._flapper is not None:
            self._flapper.join()
            self._flapper = None

    def note_request(self) -> None:
        with self._records:
            self.requests_seen += 1

    def note_unauthorized(self) -> None:
        with self._records:
            self.unauthorized += 1

    def note_export(self, export: ReceivedExport) -> None:
        with self._records:
            self._exports.append(export)
            self._records.notify_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m otlp_failover_dev.local.backend",
        description="A local OTLP/HTTP backend that fails on command (POST /control).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4319, help="OTLP port (default 4319)")
    parser.add_argument("--control-port", type=int, default=4320, help="control port (4320)")
    parser.add_argument(
        "--require-header",
        type=arguments.header,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="answer 401 to exports without this header (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with OtlpBackend(args.host, args.port, args.control_port) as backend:
        backend.require_headers(dict(args.require_header))
        log.info("OTLP/HTTP backend on %s, control on %s", backend.url, backend.control_url)
        wait_for_termination()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
