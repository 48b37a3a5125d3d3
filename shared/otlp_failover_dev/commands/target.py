"""Which gateway an operator command talks to: the running local stack, or a deployed one.

The local stack leaves a small file with its URL, token and the functions' environment
(no secret values: only names and ARNs, plus the local token it made up), so ``status``
and ``drain`` work against it with no flags. A deployed stack is named by its API URL and
token (``status``) or by its drain function, whose environment ``drain`` reads.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otlp_failover.errors import FailoverError

STATE_FILE_ENV = "OTLP_FAILOVER_LOCAL_FILE"


class TargetError(FailoverError):
    """No gateway to talk to: the message says which flag or file is missing."""


def local_file() -> Path:
    override = os.environ.get(STATE_FILE_ENV)
    if override:
        return Path(override)
    return Path(tempfile.gettempdir()) / f"otlp-failover-local-{os.getuid()}.json"


@dataclass(frozen=True)
class LocalTarget:
    api_url: str
    token: str
    environment: dict[str, str]

    def save(self) -> Path:
        path = local_file()
        path.touch(mode=0o600)  # it holds the local token
        path.write_text(json.dumps(self.__dict__, indent=2))
        return path

    @classmethod
    def load(cls) -> LocalTarget | None:
        path = local_file()
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return cls(str(raw["api_url"]), str(raw["token"]), dict(raw["environment"]))


def forget_local(target: LocalTarget) -> None:
    """Remove the file if it still describes ``target`` (another stack may have replaced it)."""
    if LocalTarget.load() == target:
        local_file().unlink(missing_ok=True)
