"""``otlp-failover local --primary-header NAME=VALUE``: parsed into pairs; a bad one is
refused without repeating the value, which is a credential."""

from __future__ import annotations

import pytest

from otlp_failover_dev.cli import build_parser


def test_header_flags_repeat_and_split_at_the_first_equals_sign() -> None:
    args = build_parser().parse_args(
        [
            "local",
            "--primary-header",
            "Authorization=Bearer abc=",
            "--primary-header",
            "X-Scope-OrgID = team-a",
            "--secondary-header",
            "api-key=k",
        ]
    )
    assert args.primary_header == [("Authorization", "Bearer abc="), ("X-Scope-OrgID", "team-a")]
    assert args.secondary_header == [("api-key", "k")]


def test_no_header_flag_means_no_headers() -> None:
    args = build_parser().parse_args(["local"])
    assert (args.primary_header, args.secondary_header) == ([], [])


@pytest.mark.parametrize(
    "bad", ["Bearer-s3cr3t-no-name", "Bad Name=s3cr3t", "Authorization=", "A=s3cr3t\r\nX: y"]
)
def test_a_malformed_header_is_refused_without_echoing_it(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["local", "--primary-header", bad])
    error = capsys.readouterr().err
    assert "must be NAME=VALUE" in error
    assert "s3cr3t" not in error
