"""One scenario's world, and how every scenario ends.

A local stack whose S3 and DynamoDB calls go through fault proxies, ingest instances that
scale out under load, the demo primary (and a secondary when asked), concurrent SDK
clients and a level watch. A scenario breaks things, heals them, then ``settle()``: the
clients flush, every signal comes back to level 0, and the backup is drained to its last
object. Only then is "delivered" final and the count taken.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Protocol, Self, TypeVar

from otlp_failover.runtime import Runtime
from otlp_failover.settings import environment as settings
from otlp_failover.signals import Signal
from otlp_failover_dev.chaos.aws_faults import AwsProxies
from otlp_failover_dev.chaos.instances import Answer, IngestInstances
from otlp_failover_dev.chaos.scale import Scale
from otlp_failover_dev.chaos.tally import Row
from otlp_failover_dev.chaos.watch import LevelWatch
from otlp_failover_dev.items import deliveries
from otlp_failover_dev.ledger import Ledger
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.operations import DRAIN_BUDGET_SECONDS, LocalOperations
from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig
from otlp_failover_dev.traffic import Traffic

PROTOCOLS = ("protobuf", "json")  # clients alternate: both codecs meet every fault
# A deployment's settings, shortened so that a scenario takes seconds, not minutes. None
# changes what is delivered, only how soon: a hanging backend fails an export after 1 s.
# (Not so for exports of many MiB, which a backend may take longer to accept: a scenario
# sending those keeps the deployment's timeout through ``Scenario.environment``.)
# Two backup shards, not eight: a scenario's few dozen objects then make a few drain units
# instead of a dozen, each with its lease and checkpoint in the one-at-a-time emulated
# DynamoDB. The kill scenarios keep the default: a sharded drain is what they test.
GATEWAY_ENVIRONMENT: dict[str, str | None] = {
    settings.EXPORT_TIMEOUT: "1s",
    settings.EXPORT_RETRY_BUDGET: "300ms",
    settings.STATE_CACHE_TTL: "1",
    settings.BACKUP_SHARDS: "2",
}
POLL_SECONDS = 0.1
T = TypeVar("T")


class Client(Protocol):
    """Anything that sends items and keeps a ledger per signal: the SDK clients, or a
    scenario's own sender (``add_client``)."""

    @property
    def ledgers(self) -> Mapping[Signal, Ledger]: ...

    def stop(self) -> None:
        """Send nothing new; every export sent gets its answer."""


class Chaos:
    def __init__(
        self,
        scenario: str,
        scale: Scale,
        *,
        secondary: bool = False,
        operations: bool = True,
        clients: int | None = None,
        run_id: str | None = None,
        seed: int = 0,
        primary_headers: Mapping[str, str] | None = None,
        environment: Mapping[str, str | None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.scale = scale
        self.clients = scale.clients if clients is None else clients
        # Where kills land: the same places for the same seed (not security).
        self.rng = random.Random(f"{seed}/{scenario}")  # noqa: S311
        self.run_id = run_id or uuid.uuid4().hex[:6]
        self.prefix = f"chaos-{self.run_id}-{scenario}-"
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.proxies = AwsProxies()
        self.instances = IngestInstances()
        self.secondary: OtlpBackend | None = None
        self._with_secondary = secondary
        self._operations = operations
        self._primary_headers = dict(primary_headers or {})
        self._environment = {**GATEWAY_ENVIRONMENT, **(environment or {})}
        self._stack: LocalStack | None = None
        self._ops: LocalOperations | None = None
        self._watch: LevelWatch | None = None
        self._clients: list[Traffic] = []
        self._senders: list[Client] = []  # a scenario's own, counted like the SDK clients

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stack(self) -> LocalStack:
        assert self._stack is not None, "the scenario's stack is not running"
        return self._stack

    @property
    def primary(self) -> OtlpBackend:
        assert self.stack.primary is not None  # no --primary: the demo primary runs
        return self.stack.primary

    @property
    def ops(self) -> LocalOperations:
        """The probe and the drain (the stack's own, or unscheduled ones for kill runs)."""
        assert self._ops is not None
        return self._ops

    @property
    def watch(self) -> LevelWatch:
        assert self._watch is not None
        return self._watch

    def _start(self) -> None:
        self.proxies.start()
        if self._with_secondary:
            self.secondary = OtlpBackend().start()
        name = f"chaos-{self.run_id}-{self.scenario}"[:63]  # a bucket name's limit
        config = LocalStackConfig(
            port=0,
            aws_port=0,
            secondary=self.secondary.url if self.secondary else None,
            table_name=name,
            bucket_name=name,
            token_secret_name=f"chaos/{name}",
            retry_interval=1.0,
            retry_gap=0.2,
            drain_interval=1.0,
            operations=self._operations,
            primary_headers=self._primary_headers,
            primary_headers_secret_name=f"chaos/{name}/primary-headers",
            extra_environment={**self.proxies.environment(), **self._environment},
        )
        self._stack = LocalStack(config, handler_factory=lambda: self.instances).start()
        assert self._stack.aws is not None
        self.proxies.connect(self._stack.aws.endpoint_url)
        self.instances.warm(self.clients * len(Signal))  # one per client and signal
        self._ops = self._stack.operations or self._unscheduled_operations()
        self._watch = LevelWatch(self._stack.aws.dynamodb(), config.table_name).start()

    @staticmethod
    def _unscheduled_operations() -> LocalOperations:
        """For kill runs: the scenario runs the probe and the drain itself, and a recovery
        does not start a drain behind its back."""
        operations = LocalOperations(Runtime.build())
        operations.prober = operations.runtime.prober(start_drain=lambda _signal: None)
        return operations

    def stop(self) -> None:
        self.stop_clients()
        if self._watch is not None:
            self._watch.stop()
        self.proxies.heal()  # a probe or drain waiting on a hanging proxy lets go at once
        if self._stack is not None:
            self._stack.stop()
        self.proxies.stop()
        if self.secondary is not None:
            self.secondary.stop()

    def start_clients(self, count: int | None = None) -> None:
        for _ in range(self.clients if count is None else count):
            number = len(self._clients)
            client = Traffic(
                PROTOCOLS[number % len(PROTOCOLS)],
                self.stack.api_url,
                self.stack.config.token,
                signals=tuple(Signal),
                rate=self.scale.rate,
                prefix=f"{self.prefix}c{number:02d}",
            )
            self._clients.append(client)
            client.start()

    def add_client(self, client: Client) -> None:
        """A sender of the scenario's own: flushed and counted with the SDK clients."""
        self._senders.append(client)

    def stop_clients(self) -> None:
        """Every client flushes its queues, in parallel (each waits for its answers)."""
        clients: list[Client] = [*self._clients, *self._senders]
        threads = [threading.Thread(target=client.stop) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def hold(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> float:
        return time.monotonic()

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def wait_level(self, level: int, timeout: float) -> bool:
        """Whether every signal is on ``level`` within ``timeout`` (the traffic moves it)."""
        return self.wait_for(lambda: set(self._levels().values()) == {level}, timeout)

    def recover(self, level: int = 0, timeout: float | None = None) -> bool:
        """Probe until every signal is on ``level``, as the schedule would, only sooner."""

        def recovered() -> bool:
            if set(self._levels().values()) == {level}:
                return True
            _quietly(self.ops.probe)
            return False

        return self.wait_for(recovered, self.scale.settle if timeout is None else timeout)

    def settle(self) -> None:
        """Clients flushed, every signal on level 0, the backup drained to its last object."""
        self.stop_clients()
        deadline = time.monotonic() + self.scale.settle
        if not self.recover(0):
            self.problem(f"not every signal was back on level 0 within {self.scale.settle:g}s")
            return
        # Done when a drain run of ours ended and the backup is empty after it. Ours runs as
        # another drain invocation would, beside any scheduled one, with leases of its own
        # (a job's leases are re-entrant for that job): asking the stack's drain while it
        # runs only sends it round again, so polling it would keep it running for ever.
        drain = self.ops.runtime.drain_job()
        while _quietly(lambda: drain.run(DRAIN_BUDGET_SECONDS)) is None or self.backlog("backup/"):
            if time.monotonic() > deadline:
                self.problem(f"the backlog was not drained within {self.scale.settle:g}s")
                return
            time.sleep(POLL_SECONDS)
        if set_aside := self.backlog("deadletter/"):
            self.problem(f"{set_aside} backup lines were set aside as bad data")

    def backlog(self, prefix: str) -> int:
        """Objects under ``prefix`` in the backup bucket, listed in moto directly."""
        assert self.stack.aws is not None
        pages = self.stack.aws.s3().get_paginator("list_objects_v2")
        bucket = self.stack.config.bucket_name
        return sum(
            len(page.get("Contents", [])) for page in pages.paginate(Bucket=bucket, Prefix=prefix)
        )

    def answers(
        self, since: float = 0.0, until: float = float("inf"), *, whole: bool = False
    ) -> list[Answer]:
        return self.instances.answers(since, until, whole=whole)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def expect(self, holds: bool, problem: str) -> None:
        if not holds:
            self.problem(problem)

    def received(self) -> Counter[str]:
        """How many times the primary and the secondary got each of this scenario's items."""
        exports = self.primary.exports + (self.secondary.exports if self.secondary else [])
        counts: Counter[str] = Counter()
        for signal in Signal:
            counts.update(deliveries(exports, signal, self.prefix))
        return counts

    def tally(self) -> Row:
        refusals = [a for a in self.answers() if a.status == 503]
        notes = [self._level_path(), *self.notes]
        if refusals:
            notes.append(f"{len(refusals)} exports answered 503")
        clients: list[Client] = [*self._clients, *self._senders]
        ledgers = [ledger for client in clients for ledger in client.ledgers.values()]
        return Row.count(self.scenario, ledgers, self.received(), notes, self.problems)

    def _levels(self) -> dict[Signal, int]:
        try:
            return self.watch.read()
        except Exception:  # moto busy: "not yet", poll again
            return {}

    def _level_path(self) -> str:
        """The levels every signal went through, or how often they changed when many."""
        paths = {s: "→".join(map(str, self.watch.history(s))) for s in Signal}
        if any(path.count("→") > 4 for path in paths.values()):
            return "level changes: " + ", ".join(f"{s} {p.count('→')}" for s, p in paths.items())
        if len(set(paths.values())) == 1:
            return f"levels {paths[Signal.TRACES]}"
        return "levels " + ", ".join(f"{s} {path}" for s, path in paths.items())


def _quietly(step: Callable[[], T]) -> T | None:
    """Run a probe or a drain that may meet the fault still in place; the loop tries again."""
    with contextlib.suppress(Exception):  # the stack's loggers tell why, with --verbose
        return step()
    return None
