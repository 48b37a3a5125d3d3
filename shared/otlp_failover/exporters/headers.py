"""Where an exporter's own headers come from: the port, and fixed headers.

The exporter asks for the current headers on every export and, when the backend refuses
them (401/403), asks for a refresh once. It never knows where they are kept
(``aws/secrets.py`` implements this port over Secrets Manager).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class HeaderSource(Protocol):
    def current(self) -> Mapping[str, str]:
        """The headers to send now; raises ``SecretError`` when there are none to send."""
        ...

    def refresh(self, refused: Mapping[str, str]) -> bool:
        """The backend refused ``refused``: look again now. True when there are others to
        try; never raises."""
        ...


class StaticHeaders:
    """Headers that never change (none, or given in code and tests)."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._headers = dict(headers or {})

    def current(self) -> Mapping[str, str]:
        return self._headers

    def refresh(self, refused: Mapping[str, str]) -> bool:
        return False
