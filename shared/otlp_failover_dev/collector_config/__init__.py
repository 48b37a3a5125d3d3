"""A collector configuration (the failover connector, its pipelines and their ``otlphttp``
and ``file`` exporters, ``${VAR}`` headers) translated into the gateway's: ``translate``
returns a ``Translation``; ``render`` says what to create and deploy with it.

``document`` (the YAML, with paths), ``expand`` (``${env:VAR}``), ``pipelines``
(connectors to levels), ``connector`` and ``exporters`` (their settings), ``translate``
(the whole, checked by the gateway's own ``FailoverConfig``).
"""

from otlp_failover_dev.collector_config.document import CollectorConfigError
from otlp_failover_dev.collector_config.translate import DEFAULT_SECRET_PREFIX, translate
from otlp_failover_dev.collector_config.translation import HeaderSecret, Level, Translation

__all__ = [
    "DEFAULT_SECRET_PREFIX",
    "CollectorConfigError",
    "HeaderSecret",
    "Level",
    "Translation",
    "translate",
]
