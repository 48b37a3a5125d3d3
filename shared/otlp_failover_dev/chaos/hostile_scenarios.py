"""Scenarios with backends that fail slowly, answer nonsense or rotate their keys, and a
Secrets Manager that goes away: the gateway keeps every export and answers in time."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from otlp_failover.metrics import CURRENT_LEVEL
from otlp_failover.settings.durations import parse_duration
from otlp_failover.settings.environment import (
    EXPORT_RETRY_BUDGET,
    EXPORT_TIMEOUT,
    RETRY_GAP,
    RETRY_INTERVAL,
)
from otlp_failover.signals import Signal
from otlp_failover_dev.chaos import aws_faults
from otlp_failover_dev.chaos.harness import GATEWAY_ENVIRONMENT, Chaos
from otlp_failover_dev.chaos.scenario import Scenario, expect_served, outage
from otlp_failover_dev.local._payload import LambdaContext
from otlp_failover_dev.local.stack import load_module

# What an export may take while the primary drips: its attempt timeout and retry budget,
# plus this for the backup write to the emulated S3 on a loaded machine.
BACKUP_WRITE_ALLOWANCE = 2.0
# A rotated key must be in use this soon: the first 401 re-reads the secret at once.
ROTATION_PICKED_UP_WITHIN = 2.0
OLD_KEY, NEW_KEY = "Bearer chaos-key-1", "Bearer chaos-key-2"  # test values, not secrets
# The shortest retry_interval the settings allow, and the longest retry_gap that fits it
# with two levels above the last (retry_interval > retry_gap x 2).
SHORTEST_INTERVAL, LONGEST_GAP = "1s", "450ms"
PROBE_RUNS = 3


def _setting(name: str) -> float:
    value = GATEWAY_ENVIRONMENT[name]
    assert value is not None
    return parse_duration(value)


def slow_drip(chaos: Chaos) -> None:
    """Status line, then one header byte every 0.4 s: each export still ends in time and
    the level moves, because the deadline cuts the answer that never ends."""
    window = outage(
        chaos, lambda: chaos.primary.set_mode("drip", period=0.4), chaos.primary.set_mode
    )
    chaos.settle()
    expect_served(chaos, *window)
    limit = _setting(EXPORT_TIMEOUT) + _setting(EXPORT_RETRY_BUDGET) + BACKUP_WRITE_ALLOWANCE
    slowest = max(a.ended - a.started for a in chaos.answers(*window))
    chaos.expect(slowest <= limit, f"an export took {slowest:.1f}s (limit {limit:.1f}s)")
    chaos.note(f"slowest export {slowest:.1f}s (limit {limit:.1f}s)")


def garbage_retry_after(chaos: Chaos) -> None:
    """503 with ``Retry-After: ²``: ignored, the export fails over, nothing answers 500."""
    window = outage(chaos, lambda: chaos.primary.set_mode("garbage"), chaos.primary.set_mode)
    chaos.settle()
    expect_served(chaos, *window)
    errors = [a for a in chaos.answers(*window) if a.status >= 500]
    chaos.expect(not errors, f"{len(errors)} exports answered 5xx")


def key_rotation(chaos: Chaos) -> None:
    """The primary's key is rotated (secret and backend at once): the first 401 re-reads
    the secret, the export goes through on the primary, and no signal fails over."""
    arn = chaos.stack.headers_secret_arns["primary"]
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    assert chaos.stack.aws is not None
    secrets = chaos.stack.aws.secretsmanager()
    rotated = time.monotonic()
    chaos.primary.require_headers({"authorization": NEW_KEY})
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"authorization": NEW_KEY}))
    picked_up = chaos.wait_for(
        lambda: any(e.headers.get("authorization") == NEW_KEY for e in chaos.primary.exports),
        ROTATION_PICKED_UP_WITHIN + 5,
    )
    took = time.monotonic() - rotated
    chaos.expect(picked_up, "the rotated key was never used")
    chaos.expect(
        took <= ROTATION_PICKED_UP_WITHIN,
        f"the rotated key was used after {took:.1f}s (stated: {ROTATION_PICKED_UP_WITHIN}s)",
    )
    chaos.hold(chaos.scale.fault)
    deepest = chaos.watch.deepest()
    chaos.settle()
    chaos.expect(deepest == 0, f"a signal failed over (level {deepest}) over a key rotation")
    chaos.note(f"new key in use after {took:.1f}s, {chaos.primary.unauthorized} answers 401")


def secrets_manager_down(chaos: Chaos) -> None:
    """Secrets Manager unreachable at cold start (the instances have read nothing: exports
    get 503 and are sent again), then again later (the last good tokens and headers serve:
    every export answered 200)."""
    proxy = chaos.proxies.secretsmanager
    proxy.set(aws_faults.refused())
    chaos.start_clients()
    chaos.hold(chaos.scale.fault)
    cold = chaos.answers(0, chaos.now())
    proxy.heal()
    healed = chaos.now()
    # A secret that could not be read is asked for again after a pause (FAILED_READ_RETRY):
    # wait until exports go through again, then take Secrets Manager away once more.
    chaos.expect(
        chaos.wait_for(lambda: _all_served_lately(chaos, healed), 40),
        "exports did not all go through again once Secrets Manager was back",
    )
    began = chaos.now()
    proxy.set(aws_faults.refused())
    chaos.hold(chaos.scale.fault)
    ended = chaos.now()
    proxy.heal()
    chaos.settle()
    expect_served(chaos, began, ended)
    odd = sorted({a.status for a in cold if a.status not in (200, 503)})
    chaos.expect(not odd, f"at cold start with Secrets Manager down, answers {odd}")
    refused = sum(a.status == 503 for a in cold)
    later = sum(a.status != 200 for a in chaos.answers(began, ended))
    chaos.note(f"{refused} exports answered 503 at cold start, {later} not 200 later")


def probe_with_hanging_backends(chaos: Chaos) -> None:
    """Primary and secondary hang; the probe function runs as Lambda runs it, at the
    shortest interval and the longest gap: every run flushes CurrentLevel before it asks
    any backend, and ends before its invocation's timeout."""
    secondary = chaos.secondary
    assert secondary is not None
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    chaos.primary.set_mode("hang")
    secondary.set_mode("hang")
    chaos.expect(chaos.wait_level(2, chaos.scale.fault + 20), "not every signal reached level 2")
    timeout = 30 + 2 * chaos.scale.fault  # the handler keeps 30 s back; this leaves 2 faults
    slowest = 0.0
    for run in range(PROBE_RUNS):
        flushes, took = _probe_run(chaos, timeout)
        slowest = max(slowest, took)
        chaos.expect(took < timeout, f"probe run {run} took {took:.1f}s (timeout {timeout}s)")
        first = flushes[0] if flushes else {}
        levels = {signal: first.get(signal) for signal in Signal}
        chaos.expect(
            all(level == 2 for level in levels.values()),
            f"probe run {run}: its first flush held CurrentLevel {levels}, not 2 for each",
        )
    chaos.primary.set_mode("healthy")
    secondary.set_mode("healthy")
    chaos.settle()
    chaos.note(f"{PROBE_RUNS} probe runs, CurrentLevel first in each, slowest {slowest:.1f}s")


def _probe_run(chaos: Chaos, timeout: float) -> tuple[list[dict[Signal, float]], float]:
    """One cold-started probe invocation: CurrentLevel of each flush made before any backend
    was asked (a flush after that is not recorded), and how long the invocation took."""
    with _environment({RETRY_INTERVAL: SHORTEST_INTERVAL, RETRY_GAP: LONGEST_GAP}):
        app = load_module(chaos.stack.functions_dir / "probe" / "app.py")
    telemetry = app.runtime.telemetry
    backends = [chaos.primary, chaos.secondary]
    asked = sum(b.requests_seen for b in backends if b is not None)
    flushes: list[dict[Signal, float]] = []
    flush = telemetry.flush

    def recorded_flush() -> None:
        if sum(b.requests_seen for b in backends if b is not None) == asked:
            flushes.append(_current_levels(telemetry.totals()))
        flush()

    telemetry.flush = recorded_flush
    started = time.monotonic()
    context = LambdaContext("probe", uuid.uuid4().hex, deadline=started + timeout)
    app.lambda_handler({}, context)
    return flushes, time.monotonic() - started


def _current_levels(totals: dict[tuple[str, Any], float]) -> dict[Signal, float]:
    return {
        Signal(dict(dims)["Signal"]): value
        for (name, dims), value in totals.items()
        if name == CURRENT_LEVEL
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _all_served_lately(chaos: Chaos, since: float, window: float = 2.0) -> bool:
    """Every export of the last ``window`` seconds (and a few of them) answered 200: every
    instance has read its secrets by now."""
    recent = chaos.answers(max(since, chaos.now() - window))
    return len(recent) >= 5 and all(a.status == 200 for a in recent)


SCENARIOS = [
    Scenario(
        "primary-slow-drip",
        "The primary drips its answer a byte at a time: every export ends in time.",
        slow_drip,
    ),
    Scenario(
        "primary-garbage-retry-after",
        "The primary answers 503 with a Retry-After that is no number: ignored, kept.",
        garbage_retry_after,
    ),
    Scenario(
        "backend-key-rotation",
        "The primary's key is rotated: in use at once, no failover, nothing lost.",
        key_rotation,
        primary_headers={"authorization": OLD_KEY},
    ),
    Scenario(
        "secrets-manager-down",
        "Secrets Manager down at cold start (503, sent again) and later (last good values).",
        secrets_manager_down,
        primary_headers={"authorization": OLD_KEY},
    ),
    Scenario(
        "probe-hanging-backends",
        "Every OTLP level hangs, shortest interval: each probe run reports first, ends in time.",
        probe_with_hanging_backends,
        secondary=True,
        operations=False,
    ),
]
