"""argparse value types shared by the subcommands: errors name the flag's rule."""

from __future__ import annotations

import argparse
import re

from otlp_failover.settings.durations import parse_duration


def duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (0-65535), got {text!r}")
    return int(text)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP field name (RFC 9110)


def header(text: str) -> tuple[str, str]:
    """``NAME=VALUE``. The value is a credential: no error message repeats it."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.fullmatch(name) or not value or "\r" in value or "\n" in value:
        raise argparse.ArgumentTypeError(
            "must be NAME=VALUE with an HTTP header name and a non-empty value on one line, "
            "e.g. 'Authorization=Bearer <key>'"
        )
    return name, value
