"""The fuzz tier reuses the functional tier's fixtures (moto server, backends, gateway)."""

from tests.functional.conftest import (  # noqa: F401 - fixtures are found by name
    aws,
    backend,
    backup_bucket,
    chain_env,
    gateway,
    state_table,
    token_secret,
)
