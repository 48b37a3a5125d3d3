"""``otlp-failover config from-collector FILE``: a collector configuration as the
gateway's, with the secrets and commands to deploy it; ``config secret-string FILE
EXPORTER``: one exporter's headers as the secret's value, for ``$(...)`` only."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from otlp_failover_dev.collector_config import (
    DEFAULT_SECRET_PREFIX,
    CollectorConfigError,
    Translation,
    translate,
)
from otlp_failover_dev.collector_config.render import report, sam_parameters


def add_config_command(commands: Any) -> None:
    parser = commands.add_parser(
        "config",
        help="translate an OpenTelemetry Collector configuration into the gateway's",
        description="Work with the gateway's configuration.",
    )
    actions = parser.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    collector = actions.add_parser(
        "from-collector",
        help="print the gateway's configuration for a collector's failover connector",
        description="Translate a collector configuration (the failover connector, its "
        "pipelines, their otlphttp and file exporters) into FAILOVER_CONFIG, and print the "
        "Secrets Manager secrets and the commands that deploy it. Header values are read "
        "from the environment (${VAR}, ${env:VAR}) and never printed.",
    )
    collector.add_argument("file", type=Path, help="the collector's YAML configuration")
    collector.add_argument(
        "--parameters-file",
        type=Path,
        metavar="PATH",
        help="also write the template parameters (FailoverConfig) there, for "
        "`make deploy PARAMETERS=PATH`",
    )
    collector.add_argument(
        "--secret-prefix",
        default=DEFAULT_SECRET_PREFIX,
        help=f"prefix of the headers secrets' names ({DEFAULT_SECRET_PREFIX})",
    )
    collector.add_argument(
        "--json", action="store_true", help="print FAILOVER_CONFIG alone, as one line of JSON"
    )
    collector.set_defaults(run=run_from_collector)
    value = actions.add_parser(
        "secret-string",
        help='one exporter\'s headers as a secret value, for --secret-string "$(...)"',
        description="Print the JSON object of one exporter's headers (values resolved from "
        "the environment), as Secrets Manager keeps it. Refuses to print to a terminal.",
    )
    value.add_argument("file", type=Path, help="the collector's YAML configuration")
    value.add_argument("exporter", help="the exporter's id, e.g. otlphttp/primary")
    value.set_defaults(run=run_secret_string)


def run_from_collector(args: argparse.Namespace) -> int:
    translation = _translate(args.file, "from-collector", args.secret_prefix)
    if translation is None:
        return 1
    if args.json:
        print(translation.failover_json())
        return 0
    if args.parameters_file is not None:
        args.parameters_file.write_text(sam_parameters(translation), encoding="utf-8")
    parameters = str(args.parameters_file) if args.parameters_file else None
    print(report(translation, program=program(), parameters_file=parameters))
    return 0


def run_secret_string(args: argparse.Namespace) -> int:
    if sys.stdout.isatty():
        _fail(
            "secret-string",
            'refusing to print header values to a terminal; use it in --secret-string "$(...)"',
        )
        return 1
    translation = _translate(args.file, "secret-string", DEFAULT_SECRET_PREFIX)
    if translation is None:
        return 1
    secret = translation.secret(args.exporter)
    if secret is None:
        exporters = ", ".join(s.exporter for s in translation.secrets) or "none"
        _fail(
            "secret-string", f"{args.exporter} has no headers (exporters with headers: {exporters})"
        )
        return 1
    sys.stdout.write(secret.secret_string())
    return 0


def program() -> str:
    """How the user ran this command, for the commands it prints."""
    invoked = sys.argv[0] if sys.argv else ""
    return invoked if Path(invoked).name == "otlp-failover" else "otlp-failover"


def _translate(path: Path, action: str, secret_prefix: str) -> Translation | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(action, f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
        return None
    try:
        return translate(text, os.environ, source=str(path), secret_prefix=secret_prefix)
    except CollectorConfigError as exc:
        _fail(action, f"{path}: {exc}")
        return None


def _fail(action: str, message: str) -> None:
    print(f"otlp-failover config {action}: {message}", file=sys.stderr)
