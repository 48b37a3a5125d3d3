"""The AWS emulator (moto's server) in a process of its own, so its CPU and memory stay apart.

Run as ``python -m bench.aws_server``: it prints ``port <n>`` and serves until stdin closes.
"""

from __future__ import annotations

import logging
import sys

from otlp_failover_dev.local.aws import AwsEmulator


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with AwsEmulator() as emulator:
        sys.stdout.write(f"port {emulator.port}\n")
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    main()
