"""Replaying the backup: ``Drainer`` replays one signal, ``DrainJob`` is one run (the lease,
the loop over the signals, the continuation when time runs out)."""
