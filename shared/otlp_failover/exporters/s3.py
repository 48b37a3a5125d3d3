"""S3 backup exporter: one object per export request, one OTLP/JSON line in it.

The object is written before the client is answered, so a 200 means the data is in S3.
It is encrypted by the bucket's default encryption (SSE-S3, or the KMS key the template
names), so the writer needs no key of its own.
The line format is the collector file exporter's, so each line replays with curl.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from otlp_failover.backup_layout import BackupLayout
from otlp_failover.codec import ExportBody, check_ids, encode_json
from otlp_failover.config import S3Config
from otlp_failover.errors import BadRequestError
from otlp_failover.exporters.base import Exporter, ExportResult, Outcome

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

CONTENT_TYPE = "application/x-ndjson"


class S3BackupExporter(Exporter):
    def __init__(
        self,
        config: S3Config,
        client: S3Client,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(config.name)
        self.bucket = config.bucket
        self.layout = BackupLayout(config.prefix)
        self._client = client
        self._now = now

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        try:
            # A backend refuses ids of the wrong length (400); the backup refuses them too,
            # rather than keep a line that could never be replayed. Checked here, not on the
            # healthy path, where walking every span would cost more than parsing it.
            check_ids(body)
        except BadRequestError as exc:
            return ExportResult(Outcome.REJECTED, self.name, status=400, reason=exc.message)
        key = self.layout.new_key(body.signal, self._now())
        line = encode_json(body.message) + b"\n"
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=line,
                ContentType=CONTENT_TYPE,
                Metadata={"items": str(body.item_count)},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            return ExportResult(Outcome.FAILED, self.name, reason=f"S3 PutObject failed: {code}")
        except BotoCoreError as exc:
            return ExportResult(
                Outcome.FAILED, self.name, reason=f"S3 PutObject failed: {type(exc).__name__}"
            )
        return ExportResult(
            Outcome.ACCEPTED, self.name, reason=f"s3://{self.bucket}/{key}", stored_bytes=len(line)
        )
