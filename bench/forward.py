"""The healthy path: the ingest function forwarding an export vs posting the bytes directly.

Both sides send the same protobuf bytes to the same sink, in alternation. The function
side is ``lambda_handler`` of ``functions/ingest/app.py`` given the payload-2.0 event API
Gateway builds (base64 body); the direct side is a pooled keep-alive requests session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

import pybase64
import requests

from bench.measure import ApiCalls, interleaved, ratio, say, spread
from bench.payloads import export_bytes
from bench.services import TOKEN, Services, aws_clients, load_ingest_app, runtime_of
from otlp_failover.signals import Signal
from otlp_failover_dev.local._payload import LambdaContext, build_event

PROTOBUF = "application/x-protobuf"
FORWARD_SIZES = ("1KiB", "100KiB", "1MiB")
ROUNDS = {"1KiB": 600, "100KiB": 300, "1MiB": 80}
STEADY_EXPORTS = 1000


def client_headers(content_type: str = PROTOBUF) -> list[tuple[str, str]]:
    """What an OpenTelemetry SDK's OTLP/HTTP exporter sends, as API Gateway passes it on."""
    return [
        ("host", "abc123.execute-api.eu-west-1.amazonaws.com"),
        ("user-agent", "OTel-OTLP-Exporter-Python/1.45.1"),
        ("accept-encoding", "gzip, deflate"),
        ("accept", "*/*"),
        ("content-type", content_type),
        ("authorization", f"Bearer {TOKEN}"),
    ]


def export_event(signal: Signal, body: bytes) -> dict[str, Any]:
    return build_event("POST", signal.path, client_headers(), body)


def context() -> LambdaContext:
    return LambdaContext("otlp-failover-ingest", "bench", time.monotonic() + 3600)


@dataclass
class Invoker:
    """One warm ingest function instance."""

    app: ModuleType

    def __call__(self, event: dict[str, Any], ctx: LambdaContext) -> None:
        reply = self.app.lambda_handler(event, ctx)
        if reply["statusCode"] != 200:
            raise RuntimeError(f"the ingest function answered {reply['statusCode']}")


def direct_poster(session: requests.Session, url: str, body: bytes) -> Any:
    def post() -> None:
        answer = session.post(url, data=body, headers={"Content-Type": PROTOBUF}, timeout=30)
        answer.content  # noqa: B018 - read the answer, as the exporter does
        if answer.status_code != 200:
            raise RuntimeError(f"the sink answered {answer.status_code}")

    return post


@dataclass(frozen=True)
class ForwardFigures:
    """Per size: the function's time over the direct post's, and that ratio over the best
    a gateway could do (base64 decode and parse are work it cannot skip)."""

    overhead: dict[str, float]
    over_floor: dict[str, float]


def forward_overhead(services: Services, quick: bool) -> tuple[ForwardFigures, Invoker]:
    invoke = Invoker(load_ingest_app(services.environment(primary=services.sink.url)))
    session = requests.Session()
    session.trust_env = False  # as the gateway's own session: no proxy lookups per request
    url = services.sink.url + Signal.TRACES.path
    ctx = context()
    ratios: dict[str, float] = {}
    over_floor: dict[str, float] = {}
    for size in FORWARD_SIZES:
        body = export_bytes(Signal.TRACES, size)
        event = export_event(Signal.TRACES, body)
        direct = direct_poster(session, url, body)
        handler = partial(invoke, event, ctx)
        floor = partial(_unavoidable, event)
        rounds = max(10, ROUNDS[size] // (5 if quick else 1))
        interleaved(handler, direct, rounds=max(5, rounds // 10))  # warm-up
        handler_times, direct_times, floor_times = interleaved(
            handler, direct, floor, rounds=rounds
        )
        ratios[size] = ratio(handler_times, direct_times)
        best = ratio(floor_times, direct_times) + 1
        over_floor[size] = ratios[size] / best
        say(
            f"  {size:>6} traces ({len(body):,} B): function {spread(handler_times)}, "
            f"direct {spread(direct_times)} -> x{ratios[size]:.2f}"
        )
        say(
            f"         of which base64 decode + protobuf parse (unavoidable): "
            f"{spread(floor_times)} -> best possible x{best:.2f}; "
            f"the gateway's own work x{over_floor[size]:.2f} on top"
        )
    session.close()
    return ForwardFigures(ratios, over_floor), invoke


def _unavoidable(event: dict[str, Any]) -> None:
    """What no gateway behind API Gateway can skip: decode the base64 body, parse it.

    With the fastest decoder there is (pybase64, as the gateway): the standard library's
    takes longer than the parse, and a floor made with it would flatter the gateway."""
    Signal.TRACES.request_class.FromString(pybase64.b64decode(event["body"], validate=True))


def steady_ddb_calls(invoke: Invoker) -> int:
    """DynamoDB calls made by 1,000 healthy exports (the three signals in turn), warm.

    The instance is warm (clients connected, token cached), and the count starts just as
    the per-instance state cache has expired: the worst phase of the cache interval, so
    the figure does not depend on luck.
    """
    runtime = runtime_of(invoke.app)
    calls = ApiCalls(aws_clients(runtime))
    events = [export_event(s, export_bytes(s, "1KiB", seed=7)) for s in Signal]
    ctx = context()
    for event in events:
        invoke(event, ctx)
    time.sleep(runtime.settings.state_cache_ttl + 0.1)
    calls.reset()
    started = time.perf_counter()
    for number in range(STEADY_EXPORTS):
        invoke(events[number % len(events)], ctx)
    elapsed = time.perf_counter() - started
    dynamodb = calls.by_service()["dynamodb"]
    say(
        f"  {STEADY_EXPORTS} exports (1 KiB, 3 signals) in {elapsed:.2f} s "
        f"({STEADY_EXPORTS / elapsed:,.0f}/s), starting with stale state caches "
        f"(TTL {runtime.settings.state_cache_ttl:g} s): DynamoDB {dict(calls.calls) or 'no calls'}"
    )
    return dynamodb
