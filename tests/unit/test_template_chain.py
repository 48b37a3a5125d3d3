"""template.yaml takes a whole chain: FailoverConfig reaches every function as
FAILOVER_CONFIG, and HeadersSecretArns are the only chain secrets they may read; the
Makefile's deploy is guided exactly while samconfig.toml keeps no parameters."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FULL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-failover/primary-headers-AbC123"


def test_the_chain_reaches_every_function(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FAILOVER_CONFIG"] == {"Ref": "FailoverConfig"}
    assert template["Parameters"]["FailoverConfig"]["Default"] == ""
    assert template["Parameters"]["PrimaryEndpoint"]["Default"] == ""
    (rule,) = template["Rules"]["ChainGiven"]["Assertions"]
    either = rule["Assert"]["Fn::Or"]
    assert {str(e) for e in either} == {
        str({"Fn::Not": [{"Fn::Equals": [{"Ref": name}, ""]}]})
        for name in ("PrimaryEndpoint", "FailoverConfig")
    }


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("", True), (FULL, True), ("otlp-failover/primary-headers", False), (FULL[:-7], False)],
)
def test_each_chain_secret_must_be_a_full_arn(
    template: dict[str, Any], value: str, allowed: bool
) -> None:
    spec = template["Parameters"]["HeadersSecretArns"]
    assert spec["Type"] == "CommaDelimitedList"  # the pattern applies to each ARN
    assert bool(re.fullmatch(spec["AllowedPattern"], value)) is allowed


def policy_statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy["Statement"]
    ]


def test_every_function_may_read_exactly_the_chain_secrets(template: dict[str, Any]) -> None:
    functions = {
        name: policy_statements(resource)
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    readers = {}
    for name, statements in functions.items():
        for statement in statements:
            condition, grant, otherwise = statement.get("Fn::If", [None, statement, None])
            if grant.get("Sid") == "ReadChainHeaders":
                readers[name] = (condition, grant, otherwise)
    assert sorted(readers) == ["DrainFunction", "IngestFunction", "ProbeFunction"]
    for condition, grant, otherwise in readers.values():
        assert condition == "HasChainHeadersSecrets"
        assert otherwise == {"Ref": "AWS::NoValue"}
        assert grant["Action"] == "secretsmanager:GetSecretValue"
        assert grant["Resource"] == {"Ref": "HeadersSecretArns"}
    has = template["Conditions"]["HasChainHeadersSecrets"]
    assert has == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "HeadersSecretArns"}]}, ""]}]
    }
    decrypt = template["Conditions"]["DecryptHeadersSecrets"]["Fn::And"][0]
    assert {"Fn::Condition": "HasChainHeadersSecrets"} in decrypt["Fn::Or"]  # !Condition


def guided_check(repo_root: Path) -> str:
    """The Makefile's own test of samconfig.toml, as the deploy target runs it."""
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^SAMCONFIG_HAS_PARAMETERS = (.+)$", makefile, re.MULTILINE)
    assert found is not None
    return found[1]


@pytest.mark.parametrize(
    ("samconfig", "guided"),
    [
        (None, True),
        ('[default.deploy.parameters]\ncapabilities = "CAPABILITY_IAM"\n', True),
        ('[default.deploy.parameters]\n# parameter_overrides = "A=1"\n', True),
        ('[default.deploy.parameters]\nparameter_overrides = "FailoverConfig=x"\n', False),
        ('[prod.deploy.parameters]\nparameter_overrides = "A=1"\n', True),
    ],
)
def test_make_deploy_is_guided_while_samconfig_keeps_no_parameters(
    repo_root: Path, tmp_path: Path, samconfig: str | None, guided: bool
) -> None:
    if samconfig is not None:
        (tmp_path / "samconfig.toml").write_text(samconfig)
    done = subprocess.run(
        [sys.executable, "-c", guided_check(repo_root)], cwd=tmp_path, check=False, timeout=30
    )
    assert (done.returncode != 0) is guided


def test_the_repositorys_samconfig_starts_guided(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", guided_check(repo_root)], cwd=repo_root, check=False, timeout=30
    )
    assert done.returncode != 0
