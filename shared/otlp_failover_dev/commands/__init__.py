"""Operator subcommands of ``otlp-failover``, one module each."""
