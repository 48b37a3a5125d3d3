"""A three-level chain, primary -> secondary -> S3, walked down and back up.

Both OTLP backends down puts traces on level 2 (the backup); healing the secondary brings
them to level 1 and healing the primary to level 0. Each step shows in ``GET /status`` and
in ``GET /metrics``, and every acknowledged span ends up on one of the two backends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.items import deliveries
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.stack import LocalStack
from tests.e2e.conftest import StackFactory, auth, backlog, level, metrics_levels, wait_until
from tests.e2e.sdk import SdkClient

TRACES = Signal.TRACES


@pytest.fixture
def secondary() -> Iterator[OtlpBackend]:
    with OtlpBackend() as backend:
        yield backend


def both_views(stack: LocalStack) -> tuple[int, dict[str, int]]:
    return level(stack, TRACES), metrics_levels(stack)


def at_level(stack: LocalStack, number: int) -> bool:
    """Traces on ``number`` in /status and in /metrics; the other signals untouched."""
    return both_views(stack) == (number, {"traces": number, "metrics": 0, "logs": 0})


def test_traces_walk_down_to_the_backup_and_back_up_one_level_per_healed_backend(
    start_stack: StackFactory, secondary: OtlpBackend
) -> None:
    stack = start_stack(secondary=secondary.url, retry_interval=1.0, retry_gap=0.2)
    primary = stack.primary
    assert primary is not None
    client = SdkClient("protobuf", stack.api_url, auth(stack))
    acknowledged: list[str] = []

    def send(name: str) -> None:
        assert client.span(name) is True  # the backup takes it: the client never fails
        acknowledged.append(name)

    primary.set_mode("refuse")
    secondary.set_mode("refuse")
    seen = []
    for number in range(12):  # 3 failures on level 0, 3 on level 1, then the backup
        send(f"chain-down-{number:02d}")
        seen.append(level(stack, TRACES))
        if seen[-1] == 2:
            break
    assert seen[-1] == 2, seen
    assert sorted(seen) == seen and set(seen) == {0, 1, 2}  # one level at a time
    assert at_level(stack, 2)
    send("chain-on-backup")
    assert backlog(stack)["traces"] == len(acknowledged)

    secondary.set_mode("healthy")
    wait_until(lambda: at_level(stack, 1), timeout=8, what="level 1 once the secondary is back")
    send("chain-on-secondary")
    assert "chain-on-secondary" in deliveries(secondary.exports, TRACES)

    primary.set_mode("healthy")
    wait_until(lambda: at_level(stack, 0), timeout=8, what="level 0 once the primary is back")
    wait_until(lambda: backlog(stack)["traces"] == 0, timeout=10, what="the backlog drained")
    send("chain-on-primary")
    client.close()

    assert "chain-on-primary" in deliveries(primary.exports, TRACES)
    everywhere = set(deliveries(primary.exports + secondary.exports, TRACES))
    assert set(acknowledged) - everywhere == set()
