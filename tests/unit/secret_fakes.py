"""In-memory fakes for credentials: the Secrets Manager client and an exporter's headers.

FakeSecretsManager  the Secrets Manager client's GetSecretValue over a dict
ScriptedHeaders     an exporter's HeaderSource that rotates on refresh
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError


class FakeSecretsManager:
    """``get_secret_value`` over ``values`` (secret id -> SecretString); ``put`` rotates one.
    ``failing`` is an error code every read raises, as AWS answers it; ``reads`` lists the
    ids asked for."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.values: dict[str, str] = {}
        self.failing: str | None = None
        self.reads: list[str] = []
        for secret_id, value in (values or {}).items():
            self.put(secret_id, value)

    def put(self, secret_id: str, value: Any) -> None:
        """A string as it is; anything else as JSON."""
        self.values[secret_id] = value if isinstance(value, str) else json.dumps(value)

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:  # boto3 spells it so
        self.reads.append(SecretId)
        code = self.failing or (None if SecretId in self.values else "ResourceNotFoundException")
        if code is not None:
            error = {"Error": {"Code": code, "Message": f"{code} for {SecretId}"}}
            raise ClientError(error, "GetSecretValue")  # type: ignore[arg-type]
        return {"SecretString": self.values[SecretId]}


class ScriptedHeaders:
    """A HeaderSource: ``current`` serves ``headers`` (or raises ``error``); ``refresh``
    switches to ``rotated`` once, if given, and says whether the headers now differ from
    the refused ones (or raises ``refresh_error``). ``refreshes`` lists the refused ones."""

    def __init__(
        self, headers: Mapping[str, str], rotated: Mapping[str, str] | None = None
    ) -> None:
        self.headers = dict(headers)
        self.rotated = dict(rotated) if rotated is not None else None
        self.error: Exception | None = None
        self.refresh_error: Exception | None = None
        self.refreshes: list[dict[str, str]] = []

    def current(self) -> Mapping[str, str]:
        if self.error is not None:
            raise self.error
        return self.headers

    def refresh(self, refused: Mapping[str, str]) -> bool:
        self.refreshes.append(dict(refused))
        if self.refresh_error is not None:
            raise self.refresh_error
        if self.rotated is not None:
            self.headers, self.rotated = self.rotated, None
        return self.headers != dict(refused)
