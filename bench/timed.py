"""Where a drain's time goes: a wrapper that times each call of an object's methods.

``Timed(store, stats, {"get": "S3 GetObject"})`` behaves as ``store`` and adds, per named
method, the calls, their wall time and the CPU time of the calling thread
(``time.thread_time``), so a reader thread's CPU inside botocore is told apart from its
wait for S3. A method that returns a generator (the store's paginated ``list``) is timed
per item it yields, since the requests happen while it is iterated. Methods not named pass
through untimed; attributes pass through as they are. ``calls`` counts method calls (a
listing is one call however many pages it fetched: botocore's hooks count requests).
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class OpTotals:
    calls: int = 0
    wall: float = 0.0  # seconds, summed over threads
    cpu: float = 0.0  # CPU seconds of the calling threads


class OpStats:
    """Totals per operation name; thread-safe (the drain reads from a pool)."""

    def __init__(self) -> None:
        self.ops: dict[str, OpTotals] = {}
        self._lock = threading.Lock()

    def add(self, op: str, wall: float, cpu: float, calls: int = 1) -> None:
        with self._lock:
            totals = self.ops.setdefault(op, OpTotals())
            totals.calls += calls
            totals.wall += wall
            totals.cpu += cpu

    def get(self, op: str) -> OpTotals:
        return self.ops.get(op, OpTotals())

    @property
    def cpu(self) -> float:
        return sum(totals.cpu for totals in self.ops.values())


class Timed:
    def __init__(self, inner: Any, stats: OpStats, ops: Mapping[str, str]) -> None:
        self._inner = inner
        self._stats = stats
        self._ops = dict(ops)  # method name -> operation name in the stats

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        op = self._ops.get(name)
        if op is None or not callable(value):
            return value
        return self._timed(op, value)

    def _timed(self, op: str, method: Callable[..., Any]) -> Callable[..., Any]:
        stats = self._stats

        def call(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                result = method(*args, **kwargs)
            finally:
                stats.add(op, time.perf_counter() - wall, time.thread_time() - cpu)
            return _timed_items(op, stats, result) if inspect.isgenerator(result) else result

        return call


def _timed_items(op: str, stats: OpStats, items: Iterator[Any]) -> Iterator[Any]:
    while True:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            stats.add(op, time.perf_counter() - wall, time.thread_time() - cpu, calls=0)
        yield item
