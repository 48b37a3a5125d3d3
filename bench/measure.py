"""Timing side by side, API-call counting through botocore's hooks, and progress output."""

from __future__ import annotations

import gc
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TextIO

# Progress goes to the terminal; the functions under test print EMF and JSON logs to
# sys.stdout, which the bench swaps for a counter (their bytes are a cost input).
_TERMINAL: TextIO = sys.stdout


def say(text: str) -> None:
    _TERMINAL.write(text + "\n")
    _TERMINAL.flush()


class CountingStdout:
    """Stands in for sys.stdout: counts what the functions log (EMF documents, JSON lines)."""

    def __init__(self) -> None:
        self.chars = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def interleaved(*sides: Callable[[], object], rounds: int) -> list[list[float]]:
    """Seconds per call of each side, in turn, the side going first rotating every round."""
    times: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    gc.collect()
    for number in range(rounds):
        shift = number % len(sides)
        for index in order[shift:] + order[:shift]:
            start = time.perf_counter()
            sides[index]()
            times[index].append(time.perf_counter() - start)
    return times


def median(samples: Iterable[float]) -> float:
    return statistics.median(samples)


def ratio(numerator: list[float], denominator: list[float]) -> float:
    """Ratio of the medians."""
    return median(numerator) / median(denominator)


def spread(samples: list[float]) -> str:
    """'median (p25-p75)' in milliseconds, for the progress lines."""
    q1, q2, q3 = statistics.quantiles(samples, n=4) if len(samples) > 1 else samples * 3
    return f"{q2 * 1e3:.3f} ms ({q1 * 1e3:.3f}-{q3 * 1e3:.3f})"


class ApiCalls:
    """Counts AWS API calls (and the time spent in them) on botocore clients' event hooks.

    Thread-safe (the drain reads S3 from a pool); ``seconds`` sums over threads.
    """

    def __init__(self, clients: Iterable[Any]) -> None:
        self.calls: Counter[str] = Counter()  # "dynamodb.GetItem" -> n
        self.seconds = 0.0
        self.put_bytes = 0  # bodies of S3 PutObject calls
        self._lock = threading.Lock()
        self._local = threading.local()
        for client in clients:
            client.meta.events.register("before-call", self._before)
            client.meta.events.register("after-call", self._after)

    def _before(self, event_name: str, params: Any = None, **_: Any) -> None:
        name = event_name.split(".", 1)[1]
        size = _size(params.get("body")) if name == "s3.PutObject" and params else 0
        with self._lock:
            self.calls[name] += 1
            self.put_bytes += size
        self._local.started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        elapsed = time.perf_counter() - getattr(self._local, "started", time.perf_counter())
        with self._lock:
            self.seconds += elapsed

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.seconds = 0.0
            self.put_bytes = 0

    def by_service(self) -> Counter[str]:
        services: Counter[str] = Counter()
        for name, count in self.calls.items():
            services[name.split(".", 1)[0]] += count
        return services


def _size(body: Any) -> int:
    """Length of a request body as botocore holds it (bytes, or a BytesIO for S3)."""
    if isinstance(body, bytes | bytearray):
        return len(body)
    if hasattr(body, "getbuffer"):
        with body.getbuffer() as view:
            return int(view.nbytes)
    return 0
