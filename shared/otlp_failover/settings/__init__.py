"""Settings, validated in one place: the environment, the failover chain, durations.

``environment.Settings`` is what every function is built from (``runtime``);
``chain.FailoverConfig`` is the collector-style chain inside it.
"""
