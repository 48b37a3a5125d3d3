"""S3 as the backup's ``ObjectStore``: put (whole or streamed), list in key order, get,
delete in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from otlp_failover.aws.errors import AWS_ERRORS
from otlp_failover.aws.s3_upload import MultipartUpload, failed
from otlp_failover.backup.ports import StoredObject
from otlp_failover.errors import BackupError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_DELETE_BATCH = 1000  # DeleteObjects' limit
# A streamed body up to this size is one PutObject, a larger one a multipart upload in
# parts of at least this size (S3 wants 5 MiB; 8 MiB is boto3's own chunk size).
PART_BYTES = 8 * 1024 * 1024


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
            raise failed("S3 PutObject", exc) from exc

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: Mapping[str, str]
    ) -> int:
        """One PutObject when the whole body fits in a part (the common small export, no
        extra request); past that a multipart upload, each part sent as soon as it is
        full, so at most about one part is held. Any failure, in S3 or in ``chunks``,
        aborts the upload."""
        pending: list[bytes] = []
        held = 0
        upload: MultipartUpload | None = None
        try:
            for chunk in chunks:
                pending.append(chunk)
                held += len(chunk)
                if held >= PART_BYTES:
                    if upload is None:
                        upload = MultipartUpload(
                            self._client, self.bucket, key, content_type, metadata
                        )
                    upload.send(b"".join(pending))
                    pending.clear()
                    held = 0
            if upload is None:
                body = b"".join(pending)
                self.put(key, body, content_type, metadata)
                return len(body)
            if pending:
                upload.send(b"".join(pending))
            upload.complete()
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        return upload.size

    def list(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield StoredObject(entry["Key"], entry.get("Size", 0), entry["LastModified"])
        except AWS_ERRORS as exc:
            raise failed(f"listing {prefix}", exc) from exc

    def folders(self, prefix: str) -> Sequence[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            return [
                common["Prefix"][len(prefix) :].rstrip("/")
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
                for common in page.get("CommonPrefixes", [])
            ]
        except AWS_ERRORS as exc:
            raise failed(f"listing the folders of {prefix}", exc) from exc

    def get(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except AWS_ERRORS as exc:
            raise failed(f"reading {key}", exc) from exc

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            try:
                reply = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                )
            except AWS_ERRORS as exc:
                raise failed("deleting drained objects", exc) from exc
            if reply.get("Errors"):
                first = reply["Errors"][0]
                code = str(first.get("Code") or "error")
                raise BackupError(f"deleting {first.get('Key')} failed: {code}", code)
