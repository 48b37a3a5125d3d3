"""The three OTLP signals and the protobuf classes that carry them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


class Signal(StrEnum):
    TRACES = "traces"
    METRICS = "metrics"
    LOGS = "logs"

    @property
    def path(self) -> str:
        """The OTLP/HTTP path of this signal, ``/v1/traces``."""
        return f"/v1/{self.value}"

    @property
    def request_class(self) -> Any:
        return _REQUEST_CLASSES[self]

    @property
    def response_class(self) -> Any:
        return _RESPONSE_CLASSES[self]

    @classmethod
    def from_path(cls, path: str) -> Signal | None:
        return _BY_PATH.get(path.rstrip("/") or "/")


_REQUEST_CLASSES: dict[Signal, Any] = {
    Signal.TRACES: trace_service_pb2.ExportTraceServiceRequest,
    Signal.METRICS: metrics_service_pb2.ExportMetricsServiceRequest,
    Signal.LOGS: logs_service_pb2.ExportLogsServiceRequest,
}
_RESPONSE_CLASSES: dict[Signal, Any] = {
    Signal.TRACES: trace_service_pb2.ExportTraceServiceResponse,
    Signal.METRICS: metrics_service_pb2.ExportMetricsServiceResponse,
    Signal.LOGS: logs_service_pb2.ExportLogsServiceResponse,
}
_BY_PATH = {signal.path: signal for signal in Signal}
