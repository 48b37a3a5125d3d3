"""S3 adapter for the drain: list the backlog oldest first, read it, delete it, set lines aside."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from otlp_failover.backup_layout import BackupLayout
from otlp_failover.errors import FailoverError
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_DELETE_BATCH = 1000  # DeleteObjects' limit
_UNSAFE_METADATA = re.compile(r"[^\x20-\x7e]")


class BackupError(FailoverError):
    """The backup bucket could not be read or changed."""


class BackupReader:
    def __init__(self, client: S3Client, bucket: str, layout: BackupLayout) -> None:
        self._client = client
        self.bucket = bucket
        self.layout = layout

    def keys(self, signal: Signal) -> Iterator[str]:
        """The signal's waiting objects, oldest first (the keys sort by time)."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=self.layout.signal_prefix(signal)
            ):
                for entry in page.get("Contents", []):
                    yield entry["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise BackupError(f"listing the {signal} backlog failed: {_why(exc)}") from exc

    def lines(self, key: str) -> list[bytes]:
        """The non-empty lines of one object (one OTLP/JSON export request each)."""
        try:
            data = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise BackupError(f"reading {key} failed: {_why(exc)}") from exc
        return [line for line in data.split(b"\n") if line.strip()]

    def delete(self, keys: list[str]) -> None:
        """Remove drained objects; bucket versioning keeps their last copy for a while."""
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            try:
                reply = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as exc:
                raise BackupError(f"deleting drained objects failed: {_why(exc)}") from exc
            if reply.get("Errors"):
                first = reply["Errors"][0]
                raise BackupError(f"deleting {first.get('Key')} failed: {first.get('Code')}")

    def dead_letter(self, key: str, line_number: int, line: bytes, reason: str) -> str:
        """Keep a line the backend refused as bad data, with the reason, out of the backlog."""
        stem = key.removesuffix(".jsonl")
        target = self.layout.deadletter_key(f"{stem}-line{line_number}.jsonl")
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=target,
                Body=line + b"\n",
                ContentType="application/x-ndjson",
                Metadata={"reason": _UNSAFE_METADATA.sub("?", reason)[:1024], "source": key},
            )
        except (ClientError, BotoCoreError) as exc:
            raise BackupError(f"setting a line of {key} aside failed: {_why(exc)}") from exc
        return target


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "error"))
    return type(exc).__name__
