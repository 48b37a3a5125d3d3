"""How big a chaos run is: ``FULL`` for ``make chaos``, ``QUICK`` for ``make test``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    clients: int  # concurrent SDK clients per scenario
    rate: float  # items per second per signal per client
    warmup: float  # healthy seconds before the fault
    fault: float  # seconds a fault lasts
    race_clients: int  # clients racing on one outage
    kills: int  # drain and probe kills
    settle: float  # longest wait for the recovery and the drain


QUICK = Scale(
    "quick", clients=2, rate=8.0, warmup=0.3, fault=1.5, race_clients=6, kills=3, settle=45
)
FULL = Scale(
    "full", clients=6, rate=15.0, warmup=1.0, fault=6.0, race_clients=16, kills=12, settle=90
)
