"""The bench's timing wrapper: the object still behaves as itself, and each named method's
calls are counted, a generator's work while it is iterated included."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bench.timed import OpStats, Timed


class Store:
    bucket = "b"

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def get(self, key: str) -> bytes:
        return key.encode()

    def delete(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("nothing to delete")
        self.deleted += keys

    def list(self, prefix: str) -> Iterator[str]:
        for number in range(3):
            # Work done while iterating, as a paginator fetches its pages.
            _burn_cpu(0.002)
            yield f"{prefix}{number}"


def _burn_cpu(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_named_methods_are_counted_and_answer_as_before() -> None:
    stats = OpStats()
    store = Timed(Store(), stats, {"get": "GET", "delete": "DELETE"})
    assert store.get("a") == b"a"
    assert store.get("b") == b"b"
    store.delete(["a"])
    assert store.bucket == "b"
    assert store.deleted == ["a"]  # attributes pass through
    assert stats.get("GET").calls == 2
    assert stats.get("DELETE").calls == 1
    assert stats.get("LIST").calls == 0  # not named: untimed


def test_a_failing_call_is_counted_and_its_error_raised() -> None:
    stats = OpStats()
    store = Timed(Store(), stats, {"delete": "DELETE"})
    with pytest.raises(ValueError, match="nothing to delete"):
        store.delete([])
    assert stats.get("DELETE").calls == 1


def test_a_generator_is_one_call_whose_cpu_is_taken_while_it_is_iterated() -> None:
    stats = OpStats()
    store = Timed(Store(), stats, {"list": "LIST"})
    listing = store.list("p/")
    before = stats.get("LIST").cpu
    assert list(listing) == ["p/0", "p/1", "p/2"]
    totals = stats.get("LIST")
    assert totals.calls == 1
    assert totals.cpu - before >= 3 * 0.002  # thread CPU spent inside the iteration
    assert totals.wall >= totals.cpu - 1e-3
    assert stats.cpu == totals.cpu
