"""S3 as the backup's ``ObjectStore``: put, list in key order, get, delete in batches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from otlp_failover.aws.errors import AWS_ERRORS, error_code
from otlp_failover.backup.ports import StoredObject
from otlp_failover.errors import BackupError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_DELETE_BATCH = 1000  # DeleteObjects' limit


class S3ObjectStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                Metadata=dict(metadata),
            )
        except AWS_ERRORS as exc:
            raise _failed("S3 PutObject", exc) from exc

    def list(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield StoredObject(entry["Key"], entry.get("Size", 0), entry["LastModified"])
        except AWS_ERRORS as exc:
            raise _failed(f"listing {prefix}", exc) from exc

    def get(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except AWS_ERRORS as exc:
            raise _failed(f"reading {key}", exc) from exc

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            try:
                reply = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                )
            except AWS_ERRORS as exc:
                raise _failed("deleting drained objects", exc) from exc
            if reply.get("Errors"):
                first = reply["Errors"][0]
                code = str(first.get("Code") or "error")
                raise BackupError(f"deleting {first.get('Key')} failed: {code}", code)


def _failed(action: str, exc: BaseException) -> BackupError:
    code = error_code(exc)
    return BackupError(f"{action} failed: {code}", code)
