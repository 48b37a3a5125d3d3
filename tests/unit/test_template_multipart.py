"""template.yaml lets the ingest write a large backup line as a multipart upload: abort a
failed one, decrypt its parts under SSE-KMS, and the bucket removes any left behind."""

from __future__ import annotations

from typing import Any


def ingest_statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ingest function's statements by Sid, each ``!If`` taken on its true side."""
    found = {}
    for policy in template["Resources"]["IngestFunction"]["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            chosen = statement["Fn::If"][1] if "Fn::If" in statement else statement
            if isinstance(chosen, dict) and "Sid" in chosen:
                found[chosen["Sid"]] = chosen
    return found


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_ingest_may_abort_its_multipart_uploads_under_the_backup_prefix(
    template: dict[str, Any],
) -> None:
    write = ingest_statements(template)["WriteBackup"]
    assert {"s3:PutObject", "s3:AbortMultipartUpload"} <= actions(write)
    assert write["Resource"] == {"Fn::Sub": "${BackupBucket.Arn}/${BackupPrefix}/*"}


def test_under_sse_kms_the_ingest_may_decrypt_parts_through_s3_only(
    template: dict[str, Any],
) -> None:
    encrypt = ingest_statements(template)["EncryptBackup"]
    assert {"kms:GenerateDataKey", "kms:Decrypt"} <= actions(encrypt)
    via = encrypt["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}


def test_the_bucket_removes_the_parts_of_uploads_never_completed(
    template: dict[str, Any],
) -> None:
    rules = template["Resources"]["BackupBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    aborting = [
        rule
        for rule in rules
        if rule["Status"] == "Enabled" and "AbortIncompleteMultipartUpload" in rule
    ]
    assert aborting and all("Prefix" not in rule for rule in aborting)  # the whole bucket
