"""Pausing CPython's cycle collector while the codec builds and drops big acyclic trees.

Decoding a 100 KiB request makes tens of thousands of dicts and lists (orjson's document,
the constructor keywords), encoding one as many; each container allocated counts towards
the next collection, so the collector runs many times per call and traverses objects
that are all alive, or all freed by reference counting as soon as the call returns: none
is ever part of a cycle. That is pure overhead, a tenth or more of the call (msgpack's
documentation gives the same advice for unpacking large messages).

The pause is per call and restores the previous state: the collector is re-enabled only
if this call disabled it. Two threads overlapping can only shorten each other's pause,
never leave the collector off.
"""

from __future__ import annotations

import gc
from types import TracebackType


class paused_gc:
    """``with paused_gc():`` runs its block with the collector off (if it was on)."""

    __slots__ = ("_paused",)

    def __enter__(self) -> None:
        self._paused = gc.isenabled()
        if self._paused:
            gc.disable()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._paused:
            gc.enable()
