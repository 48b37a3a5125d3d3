"""One signal's shared state: the current level and its consecutive-failure counter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignalState:
    level: int = 0
    failures: int = 0
    changed_at: float = 0.0  # epoch seconds of the last level change (0 = never)
