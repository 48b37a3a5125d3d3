"""Unit tier: no network. Any socket connect fails loudly, so a test that would reach a
server (a real pool, a boto3 client, a local backend) fails instead of passing slowly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otlp_failover_dev.local.template import Template


class NetworkUsedError(AssertionError):
    """A unit test tried to open a connection; use the fakes in tests/unit/fakes.py."""


def _refuse(_sock: socket.socket, address: Any, *_args: Any) -> Any:
    raise NetworkUsedError(f"unit tests never touch the network (connect to {address!r})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    yield


@pytest.fixture(scope="session")
def template(repo_root: Path) -> dict[str, Any]:
    """template.yaml as a mapping, its short tags (!Ref, !Sub ...) in their JSON form."""
    return Template.document((repo_root / "template.yaml").read_text(encoding="utf-8"))
