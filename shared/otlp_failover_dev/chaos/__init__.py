"""Chaos runs against the local stack (``make chaos``): concurrent OpenTelemetry SDK clients
while faults are injected at the network, and a per-item count of what became of each export.

Backends fail through their own fault modes (``local.backend``); S3 and DynamoDB fail
through a fault proxy in front of moto (``chaos.proxy``), so the gateway's real boto3
clients, retries and error handling meet each fault. The drain and the probe are killed
at random points and restarted. Every scenario ends healed and drained, then counts: an
acknowledged item that no backend received is a loss, and any loss fails the run.
"""
