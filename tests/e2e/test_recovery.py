"""After an outage the gateway comes back by itself: the probe restores level 0 within a
few retry intervals, the drain empties the backup into the primary, and no acknowledged
item is missing there, whichever protocol the client speaks."""

from __future__ import annotations

import pytest

from otlp_failover.signals import Signal
from tests.e2e.conftest import StackFactory, auth, backlog, levels, wait_until
from tests.e2e.sdk import SdkClient
from tests.e2e.traffic import Traffic

RETRY_INTERVAL = 1.0
ALL = {s.value: 1 for s in Signal}


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
def test_after_an_outage_level_0_returns_and_every_acknowledged_item_reaches_the_primary(
    start_stack: StackFactory, protocol: str
) -> None:
    stack = start_stack(retry_interval=RETRY_INTERVAL, drain_interval=1.0)
    primary = stack.primary
    assert primary is not None
    traffic = Traffic(SdkClient(protocol, stack.api_url, auth(stack)), f"recovery-{protocol}")
    traffic.start()
    try:
        wait_until(lambda: traffic.count() >= 6, timeout=10, what="healthy traffic")
        primary.set_mode("refuse")
        wait_until(lambda: levels(stack) == ALL, timeout=20, what="every signal on level 1")
        wait_until(lambda: min(backlog(stack).values()) >= 3, timeout=10, what="the backup filling")
        acknowledged_in_outage = traffic.count()

        primary.set_mode("healthy")
        # A few retry intervals: the probe that is due, plus one that was mid-attempt.
        wait_until(
            lambda: set(levels(stack).values()) == {0},
            timeout=4 * RETRY_INTERVAL + 2,
            what="level 0 for every signal after the primary came back",
        )
        wait_until(
            lambda: traffic.count() >= acknowledged_in_outage + 6,
            timeout=10,
            what="traffic flowing after the recovery",
        )
    finally:
        traffic.stop()

    wait_until(
        lambda: (
            set(backlog(stack).values()) == {0} and not any(traffic.lost(primary.exports).values())
        ),
        timeout=20,
        what="the drain emptying the backlog into the primary",
    )
    assert traffic.refused == {s: [] for s in Signal}  # the client never saw a failure
    assert all(len(names) >= 5 for names in traffic.acknowledged.values())
    assert traffic.lost(primary.exports) == {s: set() for s in Signal}
