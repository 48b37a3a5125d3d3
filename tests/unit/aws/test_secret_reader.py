"""SecretReader over a fake Secrets Manager and a manual clock: the TTL, forced re-reads,
the last good value while reads fail, and header sources that notice a rotation."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest

from otlp_failover.aws.secret_cache import FAILED_READ_RETRY, FORCED_READ_GAP
from otlp_failover.aws.secrets import SecretReader
from otlp_failover.errors import SecretError
from tests.unit.fakes import ManualClock
from tests.unit.secret_fakes import FakeSecretsManager

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:otlp/primary-headers-AbC123"
TOKENS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:otlp/ingest-token-XyZ789"
OLD = {"Authorization": "Bearer old-value-1f2e"}
NEW = {"Authorization": "Bearer new-value-9d8c"}
TTL = 300.0


def reader(**values: Any) -> tuple[SecretReader, FakeSecretsManager, ManualClock]:
    secrets = FakeSecretsManager({ARN: OLD, TOKENS: {"tokens": ["t-old"]}, **values})
    clock = ManualClock()
    return SecretReader(cast(Any, secrets), ttl=TTL, clock=clock), secrets, clock


def test_a_value_is_read_once_per_ttl_and_a_rotation_shows_after_it() -> None:
    headers, secrets, clock = reader()
    assert headers.headers(ARN) == OLD
    secrets.put(ARN, NEW)
    clock.advance(TTL - 1)
    assert headers.headers(ARN) == OLD  # still fresh: served from memory
    assert secrets.reads == [ARN]
    clock.advance(1)
    assert headers.headers(ARN) == NEW
    assert secrets.reads == [ARN, ARN]


def test_a_forced_read_skips_the_ttl_but_a_burst_reads_once() -> None:
    headers, secrets, clock = reader()
    headers.headers(ARN)
    secrets.put(ARN, NEW)
    assert headers.headers(ARN, force=True) == NEW
    assert headers.headers(ARN, force=True) == NEW  # within FORCED_READ_GAP: no new read
    assert len(secrets.reads) == 2
    clock.advance(FORCED_READ_GAP)
    headers.headers(ARN, force=True)
    assert len(secrets.reads) == 3


def test_the_last_good_value_is_served_while_reads_fail_with_a_warning_and_no_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers, secrets, clock = reader()
    headers.headers(ARN)
    secrets.failing = "ThrottlingException"
    clock.advance(TTL)
    with caplog.at_level(logging.WARNING):
        assert headers.headers(ARN) == OLD
    assert "reading secret otlp/primary-headers-AbC123 failed: ThrottlingException" in caplog.text
    assert "using the value read 300 s ago" in caplog.text
    assert OLD["Authorization"] not in caplog.text
    assert "123456789012" not in caplog.text  # the short name, not the ARN


def test_after_a_failed_read_secrets_manager_is_asked_again_only_after_a_pause() -> None:
    headers, secrets, clock = reader()
    headers.headers(ARN)
    secrets.failing = "InternalServiceError"
    clock.advance(TTL)
    headers.headers(ARN)
    clock.advance(FAILED_READ_RETRY - 1)
    assert headers.headers(ARN) == OLD
    assert len(secrets.reads) == 2  # one failed read, not one per export
    secrets.failing = None
    secrets.put(ARN, NEW)
    clock.advance(1)
    assert headers.headers(ARN) == NEW


def test_a_secret_never_read_well_raises_a_clear_error_and_fails_fast_meanwhile() -> None:
    headers, secrets, clock = reader()
    secrets.failing = "AccessDeniedException"
    for _ in range(3):
        with pytest.raises(SecretError) as raised:
            headers.headers(ARN)
        assert str(raised.value) == (
            "reading secret otlp/primary-headers-AbC123 failed: AccessDeniedException"
        )
    assert len(secrets.reads) == 1
    secrets.failing = None
    clock.advance(FAILED_READ_RETRY)
    assert headers.headers(ARN) == OLD


def test_a_missing_secret_names_the_aws_error() -> None:
    headers, _, _ = reader()
    with pytest.raises(SecretError, match="failed: ResourceNotFoundException"):
        headers.headers("arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-Qw12Er")


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("not json", "is not valid JSON"),
        ({"Authorization": 42}, "must be a JSON object of header names to strings"),
        (["Authorization"], "must be a JSON object of header names to strings"),
    ],
)
def test_a_rotation_to_a_malformed_value_keeps_the_last_good_one(
    bad: Any, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers, secrets, clock = reader()
    headers.headers(ARN)
    secrets.put(ARN, bad)
    clock.advance(TTL)
    with caplog.at_level(logging.WARNING):
        assert headers.headers(ARN) == OLD
    assert problem in caplog.text


def test_ingest_tokens_keep_their_last_good_value_after_the_ttl() -> None:
    tokens, secrets, clock = reader()
    assert tokens.tokens(TOKENS) == ("t-old",)
    secrets.failing = "ServiceUnavailable"
    clock.advance(TTL * 3)
    assert tokens.tokens(TOKENS) == ("t-old",)
    secrets.failing = None
    secrets.put(TOKENS, {"tokens": ["t-new", "t-old"]})
    clock.advance(FAILED_READ_RETRY)
    assert tokens.tokens(TOKENS) == ("t-new", "t-old")


def test_tokens_that_were_never_read_raise() -> None:
    tokens, secrets, _ = reader()
    secrets.failing = "AccessDeniedException"
    with pytest.raises(SecretError, match="ingest-token-XyZ789 failed: AccessDeniedException"):
        tokens.tokens(TOKENS)


def test_a_header_source_reads_nothing_until_asked() -> None:
    headers, secrets, _ = reader()
    source = headers.header_source(ARN)
    assert secrets.reads == []
    assert source.current() == OLD


def test_a_header_source_refresh_says_whether_the_secret_holds_other_headers() -> None:
    headers, secrets, clock = reader()
    source = headers.header_source(ARN)
    refused = dict(source.current())
    assert source.refresh(refused) is False  # the same headers: nothing else to try
    clock.advance(FORCED_READ_GAP)
    secrets.put(ARN, NEW)
    assert source.refresh(refused) is True
    assert source.current() == NEW


def test_a_header_source_refresh_never_raises_when_secrets_manager_fails() -> None:
    headers, secrets, _ = reader()
    source = headers.header_source(ARN)
    secrets.failing = "AccessDeniedException"
    assert source.refresh({}) is False


@pytest.mark.parametrize(
    "value",
    ['{"x-api-key": "s3cr3t\\n"}', '{"x-api-key": "s3\\r\\ncr3t"}', '{"x-api-key": "a\\u0000b"}'],
)
def test_a_header_value_with_a_line_break_is_refused_without_quoting_it(value: str) -> None:
    from otlp_failover.aws.secrets import parse_headers

    with pytest.raises(SecretError) as caught:
        parse_headers(value, "backend-headers")
    assert "x-api-key" in str(caught.value)
    assert "s3" not in str(caught.value) and "cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ('{"tokens": ["one", "two"]}', ("one", "two")),
        ('{"token": "one", "tokens": "hunter2"}', ("one",)),  # a string is no list of tokens
        ("bare-token\n", ("bare-token",)),  # a newline from echo does not lock clients out
        ("123456", ("123456",)),  # a bare number is a token too
    ],
)
def test_ingest_tokens_are_whole_strings(text: str, tokens: tuple[str, ...]) -> None:
    from otlp_failover.aws.secrets import parse_tokens

    assert parse_tokens(text, "tokens") == tokens


def test_a_tokens_string_alone_holds_no_token() -> None:
    from otlp_failover.aws.secrets import parse_tokens

    with pytest.raises(SecretError):
        parse_tokens('{"tokens": "hunter2"}', "tokens")
