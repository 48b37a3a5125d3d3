"""Developer tooling, never shipped in the Lambda layer: the local stack, the CLI, the
failover drill, the chaos suite, and the helpers they share."""
