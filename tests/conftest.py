"""Fixtures every tier may use. Keep this small: tier fixtures live in each tier's conftest."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout: template.yaml, functions/, events/."""
    return Path(__file__).resolve().parents[1]
