"""Chaos tier: each ``make chaos`` scenario at the quick scale, one local stack at a time.

A stack sets the handlers' environment in ``os.environ`` while it runs, so the tier runs
its scenarios one after another, never in parallel workers of one process.
"""
