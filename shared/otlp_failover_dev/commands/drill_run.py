"""The failover drill, end to end: its own local stack, steady SDK traffic, an outage of the
demo primary, and the recovery, all observed from outside as an operator would.

    warmup    traffic on a healthy primary
    outage    the primary fails (refuses connections by default); the levels go to 1 and
              the backup fills
    recovery  the primary is back; the probe restores level 0 and the drain replays the
              backup; traffic goes on for ``tail`` seconds, then the SDK flushes
    verdict   wait until the backlog is empty and every acknowledged item was delivered
              (or ``timeout`` passes), then count
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from otlp_failover.settings.durations import format_duration
from otlp_failover.signals import Signal
from otlp_failover_dev.commands.drill_report import DrillReport, Tally
from otlp_failover_dev.commands.drill_watch import Timeline, Watcher
from otlp_failover_dev.items import deliveries
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig
from otlp_failover_dev.traffic import Traffic

# How the primary fails: the backend's mode, its options, and how the timeline says it.
FAILURES: dict[str, tuple[str, dict[str, Any], str]] = {
    "refuse": ("refuse", {}, "refusing connections"),
    "reset": ("reset", {}, "resetting connections"),
    "503": ("status", {"status": 503}, "answering 503"),
    "429": ("throttle", {"retry_after": 1}, "answering 429 with Retry-After: 1"),
}
POLL_SECONDS = 0.25
QUIET = ("otlp_failover", "opentelemetry", "botocore", "urllib3")


@dataclass(frozen=True)
class DrillOptions:
    protocol: str = "protobuf"  # or "json"
    signals: tuple[Signal, ...] = tuple(Signal)
    rate: float = 10.0  # items per second per signal
    warmup: float = 5.0
    outage: float = 15.0
    failure: str = "refuse"
    tail: float = 5.0  # traffic after every signal is back on level 0
    timeout: float = 60.0  # for the recovery, and again for the drain
    port: int = 0
    aws_port: int = 0
    max_retries: int = 3
    retry_interval: float = 2.0
    retry_gap: float = 1.0
    drain_interval: float = 2.0
    verbose: bool = False  # keep the gateway's own logs


class Drill:
    def __init__(self, options: DrillOptions, echo: Callable[[str], None] = print) -> None:
        self.options = options
        self.echo = echo
        self.run_id = uuid.uuid4().hex[:8]

    @property
    def prefix(self) -> str:
        return f"drill-{self.run_id}"

    def config(self) -> LocalStackConfig:
        options, name = self.options, f"otlp-failover-drill-{self.run_id}"
        return LocalStackConfig(
            port=options.port,
            aws_port=options.aws_port,
            max_retries=options.max_retries,
            retry_interval=options.retry_interval,
            retry_gap=options.retry_gap,
            drain_interval=options.drain_interval,
            # Names of its own: a drill never touches the state of another stack.
            table_name=name,
            bucket_name=name,
            token_secret_name=f"otlp-failover-drill/{self.run_id}",
        )

    def run(self) -> DrillReport:
        config = self.config()
        timeline = Timeline(self.echo)
        with quiet_logs(not self.options.verbose), LocalStack(config) as stack:
            assert stack.primary is not None  # no --primary: the demo primary runs
            timeline.add(
                f"stack up: API {stack.api_url}, demo primary {stack.primary.url}; "
                f"max_retries={config.max_retries} "
                f"retry_interval={format_duration(config.retry_interval)} "
                f"drain every {format_duration(config.drain_interval)}"
            )
            watcher = Watcher(stack.api_url, config.token, self.options.signals, timeline)
            traffic = Traffic(
                self.options.protocol,
                stack.api_url,
                config.token,
                signals=self.options.signals,
                rate=self.options.rate,
                prefix=self.prefix,
            )
            watcher.start()
            try:
                problems = self._drive(stack.primary, watcher, traffic, timeline)
            finally:
                traffic.stop()  # idempotent: flushes only what is still queued
                watcher.stop()
            tallies = [
                Tally.of(s, traffic.ledgers[s], deliveries(stack.primary.exports, s, self.prefix))
                for s in self.options.signals
            ]
        return DrillReport(self.options.protocol, tallies, list(timeline.events), problems)

    def _drive(
        self, primary: OtlpBackend, watcher: Watcher, traffic: Traffic, timeline: Timeline
    ) -> list[str]:
        options, problems = self.options, []
        signals = ", ".join(s.value for s in options.signals)
        traffic.start()
        timeline.add(
            f"traffic: {options.rate:g} items/s of {signals} over OTLP/HTTP {options.protocol}"
        )
        time.sleep(options.warmup)

        mode, mode_options, how = FAILURES[options.failure]
        primary.set_mode(mode, **mode_options)
        outage_ends = time.monotonic() + options.outage
        timeline.add(f"primary down ({how})")
        if not watcher.wait_for(lambda w: w.all_on_level(1), options.outage):
            problems.append(
                f"not every signal reached level 1 within the {options.outage:g}s outage "
                "(a longer --outage gives the failures time to count)"
            )
        time.sleep(max(0.0, outage_ends - time.monotonic()))
        primary.set_mode("healthy")
        waiting = ", ".join(f"{s} {n}" for s, n in watcher.backlog.items())
        timeline.add(f"primary back (backlog objects: {waiting})")

        if not watcher.wait_for(lambda w: w.all_on_level(0), options.timeout):
            problems.append(f"not every signal was back on level 0 {options.timeout:g}s later")
        time.sleep(options.tail)
        traffic.stop()
        timeline.add("traffic stopped; the SDK flushed its queues")

        deadline = time.monotonic() + options.timeout
        while not (watcher.backlog_empty() and not any(traffic.lost(primary.exports).values())):
            if time.monotonic() > deadline:
                problems.append(
                    f"the backlog or the deliveries did not settle in {options.timeout:g}s"
                )
                return problems
            time.sleep(POLL_SECONDS)
        timeline.add("backlog empty and every acknowledged item delivered")
        return problems


@contextmanager
def quiet_logs(quiet: bool) -> Iterator[None]:
    """Only errors from the gateway and the SDK while the drill talks: its timeline is the
    story. Every level is put back afterwards."""
    if not quiet:
        yield
        return
    saved = {logger: logger.level for logger in _loggers()}
    for logger in saved:
        # The SDK's export errors are counted as "refused"; its log lines would only repeat them.
        quiet_level = logging.CRITICAL if logger.name.startswith("opentelemetry") else logging.ERROR
        logger.setLevel(quiet_level)
    try:
        yield
    finally:
        for logger in _loggers():
            logger.setLevel(saved.get(logger, logging.NOTSET))


def _loggers() -> list[logging.Logger]:
    """The roots in QUIET and every logger below them that exists now."""
    names = {n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in QUIET}
    return [logging.getLogger(name) for name in sorted({*QUIET, *names})]
