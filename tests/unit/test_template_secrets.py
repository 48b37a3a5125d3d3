"""template.yaml and the backend header secrets: only full secret ARNs (the only form an IAM
grant matches), and kms:Decrypt through Secrets Manager wherever the secrets are read."""

from __future__ import annotations

import re
from typing import Any

import pytest

HEADER_PARAMETERS = ("PrimaryHeadersSecretArn", "SecondaryHeadersSecretArn")
FULL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp/primary-headers-AbC123"


@pytest.mark.parametrize("parameter", HEADER_PARAMETERS)
@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", True),
        (FULL, True),
        ("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:headers-Zz09aB", True),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp/primary-headers", False),
        ("otlp/primary-headers", False),
        (FULL + "x", False),
    ],
)
def test_header_secrets_must_be_full_arns(
    template: dict[str, Any], parameter: str, value: str, allowed: bool
) -> None:
    spec = template["Parameters"][parameter]
    assert bool(re.fullmatch(spec["AllowedPattern"], value)) is allowed
    assert "6 random characters" in spec["ConstraintDescription"]


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """A function's policy statements, each ``!If`` taken on its true side."""
    return [
        statement["Fn::If"][1] if "Fn::If" in statement else statement
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy["Statement"]
    ]


def test_every_reader_of_the_header_secrets_may_decrypt_them_through_secrets_manager(
    template: dict[str, Any],
) -> None:
    functions = {
        name: statements(resource)
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    readers = [
        name
        for name, found in functions.items()
        if any("PrimaryHeadersSecretArn" in str(s.get("Resource")) for s in found)
    ]
    assert sorted(readers) == ["DrainFunction", "IngestFunction", "ProbeFunction"]
    for name in readers:
        (grant,) = [s for s in functions[name] if s.get("Sid") == "DecryptBackendHeaders"]
        assert grant["Action"] == "kms:Decrypt"
        assert grant["Resource"] == {"Ref": "HeadersSecretKmsKeyArn"}
        via = grant["Condition"]["StringEquals"]["kms:ViaService"]
        assert via == {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
    assert template["Parameters"]["HeadersSecretKmsKeyArn"]["Default"] == ""
