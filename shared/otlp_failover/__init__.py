"""OTLP failover gateway: OTLP/HTTP in, the highest-priority healthy level out."""
