"""The failover domain, free of I/O: levels, the rules that move them, the router.

Everything here talks to the outside world through the ports in ``ports.py``; the AWS and
HTTP adapters that implement them live in ``otlp_failover.aws`` and ``.exporters``.
"""
