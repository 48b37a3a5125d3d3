"""Structured JSON logs through Powertools, with the Lambda request id on every line.

The core logs with the standard library (``logging.getLogger(__name__)``); this hands
those loggers Powertools' JSON handler, so one formatter, with the request id appended by
``inject_lambda_context``, serves them all. Payloads and secrets are never logged.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers


def configure_logging() -> Logger:
    """The function's logger (service and level from POWERTOOLS_SERVICE_NAME / LOG_LEVEL)."""
    logger = Logger()
    copy_config_to_registered_loggers(source_logger=logger, include={"otlp_failover"})
    logging.getLogger("otlp_failover").propagate = False
    return logger
