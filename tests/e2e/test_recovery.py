"""After an outage the gateway comes back by itself: the probe restores level 0 within a
few retry intervals, the drain empties the backup into the primary, and no acknowledged
item is missing there, whichever protocol the client speaks."""

from __future__ import annotations

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.traffic import Traffic
from tests.e2e.conftest import StackFactory, backlog, levels, wait_until

RETRY_INTERVAL = 1.0
RATE = 20.0  # items per second per signal: an outage should not build a huge backlog
ALL = {s.value: 1 for s in Signal}


def acknowledged(traffic: Traffic) -> int:
    return sum(len(ledger.acknowledged) for ledger in traffic.ledgers.values())


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
def test_after_an_outage_level_0_returns_and_every_acknowledged_item_reaches_the_primary(
    start_stack: StackFactory, protocol: str
) -> None:
    stack = start_stack(retry_interval=RETRY_INTERVAL, drain_interval=1.0)
    primary = stack.primary
    assert primary is not None
    traffic = Traffic(
        protocol,
        stack.api_url,
        stack.config.token,
        signals=tuple(Signal),
        rate=RATE,
        prefix=f"recovery-{protocol}",
    )
    traffic.start()
    try:
        wait_until(lambda: acknowledged(traffic) >= 6, timeout=10, what="healthy traffic")
        primary.set_mode("refuse")
        wait_until(lambda: levels(stack) == ALL, timeout=20, what="every signal on level 1")
        wait_until(lambda: min(backlog(stack).values()) >= 3, timeout=10, what="the backup filling")
        acknowledged_in_outage = acknowledged(traffic)

        primary.set_mode("healthy")
        # A few retry intervals: probe_successes (2) probes in a row, plus one that was
        # mid-attempt when the primary came back.
        wait_until(
            lambda: set(levels(stack).values()) == {0},
            timeout=4 * RETRY_INTERVAL + 2,
            what="level 0 for every signal after the primary came back",
        )
        wait_until(
            lambda: acknowledged(traffic) >= acknowledged_in_outage + 6,
            timeout=10,
            what="traffic flowing after the recovery",
        )
    finally:
        traffic.stop()  # flushes: every item has its answer

    wait_until(
        lambda: (
            set(backlog(stack).values()) == {0} and not any(traffic.lost(primary.exports).values())
        ),
        timeout=20,
        what="the drain emptying the backlog into the primary",
    )
    # The client never saw a failure.
    assert {s: ledger.refused for s, ledger in traffic.ledgers.items()} == {s: [] for s in Signal}
    assert all(len(ledger.acknowledged) >= 5 for ledger in traffic.ledgers.values())
    assert traffic.lost(primary.exports) == {s: set() for s in Signal}
