"""Scenarios where AWS fails under the gateway: S3 refusing the backup's writes while the
primary is down, and DynamoDB throttled or unavailable while the levels should move."""

from __future__ import annotations

from collections.abc import Callable

from otlp_failover_dev.chaos import aws_faults
from otlp_failover_dev.chaos.harness import Chaos
from otlp_failover_dev.chaos.proxy import Fault
from otlp_failover_dev.chaos.scenario import Scenario, expect_served, outage


def s3_refusing(fault: Callable[[], Fault]) -> Callable[[Chaos], None]:
    """The primary down and the backup's writes failing: no level can keep an export, so
    the client must get 503 with Retry-After, and never a 200."""

    def run(chaos: Chaos) -> None:
        chaos.start_clients()
        chaos.hold(chaos.scale.warmup)
        chaos.primary.set_mode("refuse")
        chaos.expect(chaos.wait_level(1, chaos.scale.fault + 10), "the backup never became current")
        began = chaos.now()
        chaos.proxies.s3.set(fault())
        chaos.hold(chaos.scale.fault)
        # botocore retries a failed write with backoff, so an export takes a while: keep
        # the fault until a few exports ran wholly inside it (the ones the check can judge).
        chaos.wait_for(lambda: len(chaos.answers(began, chaos.now(), whole=True)) >= 3, 15)
        ended = chaos.now()
        chaos.proxies.s3.heal()
        chaos.primary.set_mode("healthy")
        answers = chaos.answers(began, ended, whole=True)
        acknowledged = [a for a in answers if a.status == 200]
        unhinted = [a for a in answers if a.status == 503 and not a.retry_after]
        chaos.expect(bool(answers), "no export ran while S3 refused writes")
        chaos.expect(not acknowledged, f"{len(acknowledged)} exports got 200 with S3 refusing")
        chaos.expect(not unhinted, f"{len(unhinted)} 503 answers without Retry-After")
        chaos.expect(
            all(a.status == 503 for a in answers),
            f"answers other than 503: {sorted({a.status for a in answers})}",
        )
        chaos.note(f"{chaos.proxies.s3.faulted} PutObject calls failed")
        chaos.settle()

    return run


def dynamodb_failing(fault: Callable[[], Fault]) -> Callable[[Chaos], None]:
    """DynamoDB fails first, then the primary: no level can be written, so every instance
    keeps level 0 and falls through to the backup export by export."""

    def run(chaos: Chaos) -> None:
        def break_() -> None:
            chaos.proxies.dynamodb.set(fault())
            chaos.primary.set_mode("refuse")

        def heal() -> None:
            chaos.primary.set_mode("healthy")
            chaos.proxies.dynamodb.heal()

        began, ended = outage(chaos, break_, heal, level=None)
        chaos.expect(chaos.watch.deepest() == 0, "the level moved while DynamoDB failed")
        failed = chaos.proxies.dynamodb.faulted  # a refused connection never reaches it
        chaos.note(f"{failed} DynamoDB calls failed" if failed else "DynamoDB refused connections")
        chaos.settle()
        expect_served(chaos, began, ended)
        slowest = max((a.ended - a.started for a in chaos.answers(began, ended)), default=0.0)
        chaos.note(f"slowest export {slowest:.1f}s")

    return run


def dynamodb_down_on_backup(chaos: Chaos) -> None:
    """On the backup when DynamoDB fails; the primary heals while DynamoDB is still down:
    instances hold the last level they knew, the probe cannot write, nothing is dropped."""
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    chaos.primary.set_mode("refuse")
    chaos.expect(chaos.wait_level(1, chaos.scale.fault + 10), "the backup never became current")
    began = chaos.now()
    chaos.proxies.dynamodb.set(aws_faults.dynamodb_internal_error())
    chaos.hold(chaos.scale.fault / 2)
    chaos.primary.set_mode("healthy")
    chaos.hold(chaos.scale.fault / 2)  # the probe runs and fails to write
    ended = chaos.now()
    chaos.expect(set(chaos.watch.read().values()) == {1}, "a level moved while DynamoDB failed")
    chaos.proxies.dynamodb.heal()
    chaos.note(f"{chaos.proxies.dynamodb.faulted} DynamoDB calls failed")
    chaos.settle()
    expect_served(chaos, began, ended)


SCENARIOS = [
    Scenario(
        "s3-slowdown",
        "Primary down, S3 answering 503 SlowDown: 503 + Retry-After, never a 200.",
        s3_refusing(aws_faults.s3_slow_down),
    ),
    Scenario(
        "s3-writes-reset",
        "Primary down, S3 resetting every write: 503 + Retry-After, never a 200.",
        s3_refusing(aws_faults.s3_writes_reset),
    ),
    Scenario(
        "dynamodb-throttled",
        "DynamoDB throttling (400 ProvisionedThroughputExceeded), then the primary fails.",
        dynamodb_failing(aws_faults.dynamodb_throttled),
    ),
    Scenario(
        "dynamodb-unreachable",
        "DynamoDB refusing connections, then the primary fails.",
        dynamodb_failing(aws_faults.refused),
    ),
    Scenario(
        "dynamodb-500-on-backup",
        "DynamoDB answering 500 while traffic is on the backup and the primary heals.",
        dynamodb_down_on_backup,
    ),
]
