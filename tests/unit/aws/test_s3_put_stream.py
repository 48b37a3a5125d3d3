"""S3ObjectStore.put_stream over a recording S3 client: one PutObject for a small body, a
multipart upload past a part, and no upload left behind when anything fails."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from otlp_failover.aws.s3 import PART_BYTES, S3ObjectStore
from otlp_failover.errors import BackupError

MIB = 1024 * 1024
S3_MIN_PART = 5 * MIB  # S3 refuses a smaller part unless it is the last one
METADATA = {"items": "7"}


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, operation)


class RecordingS3:
    """The S3 calls put_stream makes, recorded; ``failing`` maps an operation (or
    ``UploadPart 2``) to the error code it answers with."""

    def __init__(self, failing: dict[str, str] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failing = failing or {}
        self.parts: dict[int, bytes] = {}

    def _call(self, operation: str, params: dict[str, Any], key: str | None = None) -> None:
        self.calls.append((operation, params))
        for name in (operation, key):
            if name in self.failing:
                raise client_error(self.failing[name], operation)

    def put_object(self, **params: Any) -> dict[str, Any]:
        self._call("PutObject", params)
        return {}

    def create_multipart_upload(self, **params: Any) -> dict[str, Any]:
        self._call("CreateMultipartUpload", params)
        return {"UploadId": "upload-1"}

    def upload_part(self, **params: Any) -> dict[str, Any]:
        number = params["PartNumber"]
        self._call("UploadPart", params, f"UploadPart {number}")
        self.parts[number] = params["Body"]
        return {"ETag": f'"etag-{number}"', "ChecksumCRC32": f"crc-{number}"}

    def complete_multipart_upload(self, **params: Any) -> dict[str, Any]:
        self._call("CompleteMultipartUpload", params)
        return {}

    def abort_multipart_upload(self, **params: Any) -> dict[str, Any]:
        self._call("AbortMultipartUpload", params)
        return {}

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]


def store(client: RecordingS3) -> S3ObjectStore:
    return S3ObjectStore(cast(Any, client), "backup-bucket")


def chunks(total: int, size: int = MIB // 3) -> list[bytes]:
    """``total`` bytes in pieces of ``size``, each piece's bytes telling it apart."""
    pieces: list[bytes] = []
    made = 0
    while made < total:
        piece = bytes([65 + len(pieces) % 26]) * min(size, total - made)
        pieces.append(piece)
        made += len(piece)
    return pieces


def test_a_body_that_fits_in_one_part_is_one_put_object() -> None:
    client = RecordingS3()
    body = chunks(PART_BYTES - 1)
    size = store(client).put_stream("backup/a.jsonl", iter(body), "application/x-ndjson", METADATA)
    assert client.operations() == ["PutObject"]
    ((_, params),) = client.calls
    assert params["Body"] == b"".join(body) and size == len(params["Body"])
    assert (params["Key"], params["ContentType"], params["Metadata"]) == (
        "backup/a.jsonl",
        "application/x-ndjson",
        METADATA,
    )


def test_a_larger_body_is_a_multipart_upload_in_parts_s3_accepts() -> None:
    client = RecordingS3()
    body = chunks(3 * PART_BYTES + MIB)
    size = store(client).put_stream("backup/b.jsonl", iter(body), "application/x-ndjson", METADATA)
    operations = client.operations()
    assert operations[0] == "CreateMultipartUpload" and operations[-1] == "CompleteMultipartUpload"
    assert set(operations[1:-1]) == {"UploadPart"} and "PutObject" not in operations
    create = client.calls[0][1]
    assert (create["ContentType"], create["Metadata"]) == ("application/x-ndjson", METADATA)
    parts = [client.parts[number] for number in sorted(client.parts)]
    assert b"".join(parts) == b"".join(body) and size == len(b"".join(body))
    assert all(len(part) >= max(S3_MIN_PART, PART_BYTES) for part in parts[:-1])
    completed = client.calls[-1][1]["MultipartUpload"]["Parts"]
    assert completed == [
        {"ETag": f'"etag-{n}"', "PartNumber": n, "ChecksumCRC32": f"crc-{n}"}
        for n in range(1, len(parts) + 1)
    ]


def test_parts_are_sent_as_they_fill_not_after_the_whole_body_is_read() -> None:
    client = RecordingS3()
    read: list[int] = []

    def produced() -> Iterator[bytes]:
        for piece in chunks(2 * PART_BYTES + MIB):
            read.append(len(client.parts))  # parts already sent when this piece is asked for
            yield piece

    store(client).put_stream("backup/c.jsonl", produced(), "t", {})
    assert read[0] == 0 and read[-1] == 2


def test_a_failing_part_aborts_the_upload_and_fails_with_its_code() -> None:
    client = RecordingS3(failing={"UploadPart 2": "SlowDown"})
    with pytest.raises(BackupError) as raised:
        store(client).put_stream("backup/d.jsonl", iter(chunks(3 * PART_BYTES)), "t", {})
    assert raised.value.code == "SlowDown" and "UploadPart 2" in str(raised.value)
    assert client.operations()[-1] == "AbortMultipartUpload"
    assert "CompleteMultipartUpload" not in client.operations()
    abort = client.calls[-1][1]
    assert (abort["Bucket"], abort["Key"], abort["UploadId"]) == (
        "backup-bucket",
        "backup/d.jsonl",
        "upload-1",
    )


def test_a_failing_completion_aborts_the_upload() -> None:
    client = RecordingS3(failing={"CompleteMultipartUpload": "InternalError"})
    with pytest.raises(BackupError, match="CompleteMultipartUpload failed: InternalError"):
        store(client).put_stream("backup/e.jsonl", iter(chunks(2 * PART_BYTES)), "t", {})
    assert client.operations()[-2:] == ["CompleteMultipartUpload", "AbortMultipartUpload"]


def test_an_upload_that_cannot_start_sends_nothing_and_has_nothing_to_abort() -> None:
    client = RecordingS3(failing={"CreateMultipartUpload": "AccessDenied"})
    with pytest.raises(BackupError, match="CreateMultipartUpload failed: AccessDenied"):
        store(client).put_stream("backup/e.jsonl", iter(chunks(2 * PART_BYTES)), "t", {})
    assert client.operations() == ["CreateMultipartUpload"]


def test_a_failure_of_the_producer_aborts_the_upload_and_is_raised_as_it_was() -> None:
    client = RecordingS3()

    def produced() -> Iterator[bytes]:
        yield from chunks(PART_BYTES + 1)
        raise ValueError("encoder bug")

    with pytest.raises(ValueError, match="encoder bug"):
        store(client).put_stream("backup/f.jsonl", produced(), "t", {})
    assert client.operations() == ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"]


def test_an_abort_that_fails_too_is_logged_and_the_first_failure_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = RecordingS3(failing={"UploadPart 1": "SlowDown", "AbortMultipartUpload": "NoSuch"})
    with caplog.at_level(logging.WARNING), pytest.raises(BackupError, match="SlowDown"):
        store(client).put_stream("backup/g.jsonl", iter(chunks(PART_BYTES)), "t", {})
    assert "lifecycle rule" in caplog.text and "NoSuch" in caplog.text


def test_a_failing_single_put_fails_with_its_code_and_starts_no_upload() -> None:
    client = RecordingS3(failing={"PutObject": "AccessDenied"})
    with pytest.raises(BackupError, match="S3 PutObject failed: AccessDenied"):
        store(client).put_stream("backup/h.jsonl", iter([b"{}", b"\n"]), "t", {})
    assert client.operations() == ["PutObject"]
