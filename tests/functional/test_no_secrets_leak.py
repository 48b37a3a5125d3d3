"""A full run (healthy, failing, failed over, probed, drained) never shows a secret.

Logs of every logger at INFO (what Lambda keeps at the default LOG_LEVEL), stdout and
stderr (EMF metrics), /status, error bodies and the local /metrics text are searched for
the ingest token and the backend's credential.
"""

from __future__ import annotations

import logging

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.local import prometheus
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.gateway import SHORT_PROBE_INTERVAL, TOKEN, Gateway
from tests.functional.test_ingest import spans

BACKEND_CREDENTIAL = "backend-credential-7f3a9c"


def test_no_secret_appears_in_logs_metrics_status_or_errors(
    chain_env: dict[str, str],
    aws: AwsEmulator,
    backend: OtlpBackend,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    secret = aws.create_headers_secret(
        "primary-headers", {"Authorization": f"Bearer {BACKEND_CREDENTIAL}"}
    )
    headers = {"PRIMARY_HEADERS_SECRET": secret}
    gateway = Gateway.build({**chain_env, **headers, **SHORT_PROBE_INTERVAL})
    seen: list[bytes] = []

    body = spans().SerializeToString()
    seen.append(gateway.send("/v1/traces", body).body)
    assert backend.exports[-1].headers["authorization"] == f"Bearer {BACKEND_CREDENTIAL}"
    for mode in ({"mode": "status", "status": 401}, {"mode": "refuse"}):
        backend.set_mode(**mode)
        for _ in range(2):
            seen.append(gateway.send("/v1/traces", body).body)
    seen.append(gateway.send("/v1/traces", body, token="wrong-" + TOKEN).body)
    seen.append(gateway.send("/v1/traces", b"\xff", token=TOKEN).body)
    seen.append(gateway.send("/status", method="GET", content_type=None).body)
    backend.set_mode("healthy")
    prober = gateway.runtime.prober(lambda _: None)
    for _ in range(2):  # probe_successes runs in a row bring the primary back
        prober.run(budget=55)  # the function's budget; the run ends once level 0 is back
    report = gateway.runtime.drain_job().run(30)
    assert sum(t.lines for t in report.tallies) == 4  # the outage's exports were replayed
    states = {s.value: gateway.runtime.store.read(s) for s in Signal}
    seen.append(
        prometheus.render(
            {k: v.level for k, v in states.items()},
            {k: v.failures for k, v in states.items()},
            [gateway.runtime.telemetry.totals()],
        ).encode()
    )

    captured = capsys.readouterr()
    haystack = "\n".join(
        [caplog.text, captured.out, captured.err, *(b.decode("utf-8", "replace") for b in seen)]
    )
    assert "failed over" in haystack and "ExportFailures" in haystack  # the run was logged
    assert BACKEND_CREDENTIAL not in haystack
    assert TOKEN not in haystack
