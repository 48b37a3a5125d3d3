"""One S3 multipart upload: parts sent in order as they come, then completed or aborted.

S3's rules: every part but the last is at least 5 MiB, at most 10,000 parts. Each part
carries a CRC32 (as boto3's own transfer manager sends), which S3 checks and the
completion names. Parts of an upload neither completed nor aborted are billed until the
bucket's lifecycle rule (AbortIncompleteMultipartUpload) removes them, so every failure
aborts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from otlp_failover.aws.errors import AWS_ERRORS, error_code
from otlp_failover.errors import BackupError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)


class MultipartUpload:
    """Started on creation; ``send`` each part, then ``complete`` or ``abort``."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._parts: list[CompletedPartTypeDef] = []
        self.size = 0
        try:
            reply = client.create_multipart_upload(
                Bucket=bucket,
                Key=key,
                ContentType=content_type,
                Metadata=dict(metadata),
                ChecksumAlgorithm="CRC32",
            )
        except AWS_ERRORS as exc:
            raise failed("S3 CreateMultipartUpload", exc) from exc
        self._upload_id = reply["UploadId"]

    def send(self, body: bytes) -> None:
        number = len(self._parts) + 1
        try:
            reply = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm="CRC32",
            )
        except AWS_ERRORS as exc:
            raise failed(f"S3 UploadPart {number}", exc) from exc
        part: CompletedPartTypeDef = {"ETag": reply["ETag"], "PartNumber": number}
        if "ChecksumCRC32" in reply:
            part["ChecksumCRC32"] = reply["ChecksumCRC32"]
        self._parts.append(part)
        self.size += len(body)

    def complete(self) -> None:
        try:
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        except AWS_ERRORS as exc:
            raise failed("S3 CompleteMultipartUpload", exc) from exc

    def abort(self) -> None:
        """Best effort, never raising: the caller is already failing for its own reason."""
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        except AWS_ERRORS as exc:
            log.warning(
                "aborting the multipart upload of %s failed (%s): the bucket's lifecycle "
                "rule removes its parts",
                self._key,
                error_code(exc),
            )


def failed(action: str, exc: BaseException) -> BackupError:
    code = error_code(exc)
    return BackupError(f"{action} failed: {code}", code)
