"""The drill's observer: a timeline of events, and a watcher that reads what an operator
reads (``GET /status`` and ``GET /metrics``) a few times a second and turns each change of
level or backlog into a timeline event."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from otlp_failover.signals import Signal
from otlp_failover_dev.local.prometheus import CURRENT_LEVEL

_LEVEL_LINE = re.compile(rf'^{CURRENT_LEVEL}\{{signal="(\w+)"\}} (\d+)$', re.MULTILINE)


@dataclass(frozen=True)
class Event:
    at: float  # seconds since the drill began
    text: str

    def __str__(self) -> str:
        return f"t+{self.at:.1f}s".ljust(9) + self.text


class Timeline:
    """Events in the order they happened; each is echoed as it is added."""

    def __init__(self, echo: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._started = clock()
        self._echo = echo
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def now(self) -> float:
        return self._clock() - self._started

    def add(self, text: str) -> Event:
        with self._lock:
            event = Event(self.now(), text)
            self.events.append(event)
            self._echo(str(event))
        return event


class Watcher:
    def __init__(
        self,
        api_url: str,
        token: str,
        signals: Sequence[Signal],
        timeline: Timeline,
        interval: float = 0.25,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.signals = [s.value for s in signals]
        self.timeline = timeline
        self.interval = interval
        self.levels = dict.fromkeys(self.signals, 0)  # from /status
        self.metric_levels = dict.fromkeys(self.signals, 0)  # from /metrics
        self.backlog = dict.fromkeys(self.signals, 0)
        self.peak = dict.fromkeys(self.signals, 0)
        self.polls = 0
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._session.close()

    def wait_for(self, condition: Callable[[Watcher], bool], timeout: float) -> bool:
        """Whether ``condition(self)`` held after some poll within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self), timeout)

    def all_on_level(self, level: int) -> bool:
        return all(self.levels[s] == level and self.metric_levels[s] == level for s in self.signals)

    def backlog_empty(self) -> bool:
        return not any(self.backlog.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = self._get("/status").json()
                metrics = dict(_LEVEL_LINE.findall(self._get("/metrics").text))
            except (requests.RequestException, ValueError):
                # A slow or failed read is the gateway's business, not the drill's: retry.
                self._stop.wait(self.interval)
                continue
            with self._changed:
                self._observe(status, {name: int(level) for name, level in metrics.items()})
                self.polls += 1
                self._changed.notify_all()
            self._stop.wait(self.interval)

    def _get(self, path: str) -> requests.Response:
        reply = self._session.get(self.api_url + path, timeout=5)
        reply.raise_for_status()
        return reply

    def _observe(self, status: dict[str, Any], metric_levels: dict[str, int]) -> None:
        had_backlog = not self.backlog_empty()
        for signal in self.signals:
            level = status["signals"][signal]["level"]
            metric = metric_levels.get(signal, self.metric_levels[signal])
            line = f'{CURRENT_LEVEL}{{signal="{signal}"}} {metric}'
            was, metric_was = self.levels[signal], self.metric_levels[signal]
            status_changed = level is not None and level != was
            metric_changed = metric != metric_was
            if status_changed and metric_changed and metric == level and was == metric_was:
                self.timeline.add(f"{signal} level {was} -> {level}  (/status; /metrics: {line})")
            else:
                if status_changed:
                    self.timeline.add(f"{signal} level {was} -> {level}  (/status)")
                if metric_changed:
                    self.timeline.add(
                        f"{signal} level {metric_was} -> {metric}  (/metrics: {line})"
                    )
            if status_changed:
                self.levels[signal] = level
            self.metric_levels[signal] = metric
            self._observe_backlog(signal, status["backlog"][signal].get("objects"))
        if had_backlog and self.backlog_empty():
            self.timeline.add("backlog 0")

    def _observe_backlog(self, signal: str, objects: int | None) -> None:
        if objects is None:  # S3 could not be listed this time
            return
        before = self.backlog[signal]
        self.backlog[signal] = objects
        self.peak[signal] = max(self.peak[signal], objects)
        if before == 0 and objects > 0:
            noun = "object" if objects == 1 else "objects"
            self.timeline.add(f"{signal} backup filling: {objects} {noun} in S3")
        elif before > 0 and objects == 0:
            self.timeline.add(f"{signal} backlog drained (peak {self.peak[signal]} objects)")
