"""``otlp-failover``: the command line. Each subcommand is one ``add_*_command`` function
(here or in its own module) that adds its parser and sets ``run``; heavy imports wait
until the subcommand runs, so ``otlp-failover status`` never loads moto.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from otlp_failover.errors import FailoverError
from otlp_failover.settings.chain import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_GAP,
    DEFAULT_RETRY_INTERVAL,
)
from otlp_failover.settings.durations import format_duration
from otlp_failover_dev.commands import arguments
from otlp_failover_dev.commands.drain import add_drain_command
from otlp_failover_dev.commands.drill import add_drill_command
from otlp_failover_dev.commands.status import add_status_command

if TYPE_CHECKING:
    from otlp_failover_dev.local.stack import LocalStack

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otlp-failover", description="Serverless OTLP/HTTP failover gateway."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in SUBCOMMANDS:
        add_command(commands)
    return parser


def add_local_command(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "local",
        help="run the gateway on this machine, AWS emulated",
        description="Run the gateway on 127.0.0.1: the same handlers behind an emulated HTTP "
        "API, DynamoDB/S3/Secrets Manager emulated by moto, and a demo primary.",
    )
    parser.add_argument("--port", type=arguments.port, default=4318, help="HTTP API port (4318)")
    parser.add_argument(
        "--aws-port",
        type=arguments.port,
        default=4566,
        help="AWS emulator port (4566, as LocalStack)",
    )
    parser.add_argument(
        "--primary", metavar="URL", help="primary OTLP/HTTP base URL (default: a demo primary)"
    )
    parser.add_argument("--secondary", metavar="URL", help="secondary OTLP/HTTP base URL")
    for backend in ("primary", "secondary"):
        parser.add_argument(
            f"--{backend}-header",
            type=arguments.header,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a header the {backend} needs, e.g. 'Authorization=Bearer <key>' (repeatable); "
            "kept in a Secrets Manager secret of the emulator, as deployed",
        )
    parser.add_argument("--token", help="bearer token for clients (default: new at each start)")
    parser.add_argument(
        "--max-retries", type=arguments.positive_int, default=DEFAULT_MAX_RETRIES, metavar="N"
    )
    parser.add_argument(
        "--retry-interval",
        type=arguments.duration,
        default=format_duration(DEFAULT_RETRY_INTERVAL),
        metavar="DURATION",
    )
    parser.add_argument(
        "--retry-gap",
        type=arguments.duration,
        default=format_duration(DEFAULT_RETRY_GAP),
        metavar="DURATION",
    )
    parser.add_argument(
        "--drain-interval",
        type=arguments.duration,
        default="10s",
        metavar="DURATION",
        help="how often the drain runs (10s); the probe also starts it on recovery",
    )
    parser.set_defaults(run=run_local)


def run_local(args: argparse.Namespace) -> int:
    # Imported here: moto, boto3 and the handlers load only when the stack is wanted.
    from otlp_failover_dev.local import sigterm_as_interrupt, wait_for_termination  # noqa: PLC0415
    from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "found credentials" chatter
    config = LocalStackConfig(
        port=args.port,
        aws_port=args.aws_port,
        primary=args.primary,
        secondary=args.secondary,
        primary_headers=dict(args.primary_header),
        secondary_headers=dict(args.secondary_header),
        max_retries=args.max_retries,
        retry_interval=args.retry_interval,
        retry_gap=args.retry_gap,
        drain_interval=args.drain_interval,
        publish=True,
        **({"token": args.token} if args.token else {}),
    )
    with sigterm_as_interrupt():  # a SIGTERM while starting still stops what started
        try:
            stack = LocalStack(config).start()
        except (OSError, FailoverError) as exc:
            print(f"otlp-failover local: cannot start: {exc}", file=sys.stderr)
            return 1
        try:
            print(banner(stack), flush=True)
            wait_for_termination()
        finally:
            stack.stop()
    print("otlp-failover local: stopped", flush=True)
    return 0


def banner(stack: LocalStack) -> str:
    config, api = stack.config, stack.api_url
    primary = stack.primary_url
    if stack.primary is not None:
        primary += f"  (demo backend; make it fail: POST {stack.primary.control_url})"
    aws = stack.aws.endpoint_url if stack.aws else ""
    lines = [
        "OTLP failover gateway running locally (Ctrl-C stops it)",
        "",
        f"  API            {api}  (POST /v1/traces /v1/metrics /v1/logs, GET /status)",
        f"  token          {config.token}",
        f"  primary        {primary}",
        f"  secondary      {config.secondary or '(none)'}",
        *_header_lines(stack),
        f"  backup bucket  s3://{config.bucket_name}  (AWS emulator: {aws})",
        f"  state table    {config.table_name}",
        f"  failover       max_retries={config.max_retries} "
        f"retry_interval={format_duration(config.retry_interval)} "
        f"retry_gap={format_duration(config.retry_gap)}",
        "",
        "Point an OpenTelemetry SDK at it:",
        f"  export OTEL_EXPORTER_OTLP_ENDPOINT={api}",
        f'  export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer {config.token}"',
        "  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "",
        "Watch it:",
        "  otlp-failover status            # levels, failures, backlog",
        f"  curl -s {api}/metrics | grep failover",
        "  otlp-failover drain             # replay the backup now, with a progress bar",
    ]
    if stack.primary is not None:
        control = stack.primary.control_url
        lines += [
            "",
            "Fail the demo primary, then heal it:",
            f"""  curl -X POST {control} -d '{{"mode": "status", "status": 503}}'""",
            f"""  curl -X POST {control} -d '{{"mode": "healthy"}}'""",
        ]
    return "\n".join(lines)


def _header_lines(stack: LocalStack) -> list[str]:
    """Which headers each backend gets and the secret holding them: names, never values."""
    lines = []
    for backend, headers in (
        ("primary", stack.config.primary_headers),
        ("secondary", stack.config.secondary_headers),
    ):
        arn = stack.headers_secret_arns.get(backend)
        if not (headers and arn):
            continue
        note = "; the demo primary demands them" if backend == "primary" and stack.primary else ""
        names = ", ".join(sorted(headers))
        lines.append(f"  headers        {backend}: {names}  (secret {arn}{note})")
    return lines


SUBCOMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    add_local_command,
    add_status_command,
    add_drain_command,
    add_drill_command,
)


if __name__ == "__main__":
    raise SystemExit(main())
