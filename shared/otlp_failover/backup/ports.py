"""What the backup needs from an object store (S3 in Lambda, a dict in unit tests)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


class ObjectStore(Protocol):
    """One bucket. Every method raises ``BackupError`` when the store fails."""

    bucket: str

    def put(
        self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]
    ) -> None: ...

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: Mapping[str, str]
    ) -> int:
        """One object of ``chunks`` joined, never holding much more than a part of it at
        once; its size. Nothing is left behind when it fails, whatever raised."""
        ...

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Objects under ``prefix`` in key order."""
        ...

    def folders(self, prefix: str) -> Sequence[str]:
        """The names of the folders right under ``prefix`` (which ends in ``/``) that hold
        an object, in key order: one LIST with a delimiter, not one per folder."""
        ...

    def get(self, key: str) -> bytes: ...

    def delete(self, keys: Sequence[str]) -> None: ...
