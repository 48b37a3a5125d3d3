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
    large_bytes: int  # one large-exports export, decompressed (gzip keeps it under 4.5 MiB)
    large_senders: int  # threads posting large exports side by side, as a collector's queue


MIB = 1024 * 1024
QUICK = Scale(
    "quick",
    clients=2,
    rate=8.0,
    warmup=0.3,
    fault=1.5,
    race_clients=6,
    kills=3,
    settle=45,
    large_bytes=4 * MIB,
    large_senders=2,
)
FULL = Scale(
    "full",
    clients=6,
    rate=15.0,
    warmup=1.0,
    fault=6.0,
    race_clients=16,
    kills=12,
    settle=90,
    large_bytes=16 * MIB,
    large_senders=2,
)
