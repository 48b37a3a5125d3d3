"""Artifact tier: the layer and the functions as ``sam build`` makes them, run as Lambda runs them.

The build (``artifacts``) happens once per session, with the template's Makefiles, into a
temporary folder; each handler then runs in a fresh interpreter that sees only the build
folders (tests/artifact/invoke.py), against moto's server and local OTLP backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.template import Template
from tests.artifact import interpreter as interpreters
from tests.artifact.build import Artifacts, BuildError, build
from tests.artifact.deployment import Deployment
from tests.artifact.interpreter import Interpreter
from tests.artifact.lambda_api import LambdaInvokeQueue

# Template parameters as a deployment would override them, so that one invocation shows
# each step: one failed export moves the level, one passed probe brings it back.
PARAMETERS = {"MaxRetries": "1", "ProbeSuccesses": "1"}

_used: list[Interpreter] = []  # the interpreter this session ran the handlers on


@pytest.fixture(scope="session")
def interpreter() -> Interpreter:
    found = interpreters.find()
    _used.append(found)
    return found


@pytest.fixture(scope="session")
def artifacts(
    repo_root: Path, interpreter: Interpreter, tmp_path_factory: pytest.TempPathFactory
) -> Artifacts:
    try:
        return build(repo_root, tmp_path_factory.mktemp("sam-build"), interpreter)
    except BuildError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def aws(repo_root: Path) -> Iterator[AwsEmulator]:
    with AwsEmulator(template=Template.load(repo_root / "template.yaml")) as emulator:
        yield emulator


@pytest.fixture
def primary() -> Iterator[OtlpBackend]:
    with OtlpBackend() as backend:
        yield backend


@pytest.fixture
def lambda_api() -> Iterator[LambdaInvokeQueue]:
    with LambdaInvokeQueue().running() as queue:
        yield queue


@pytest.fixture
def deployment(
    repo_root: Path,
    aws: AwsEmulator,
    interpreter: Interpreter,
    artifacts: Artifacts,
    primary: OtlpBackend,
    lambda_api: LambdaInvokeQueue,
    tmp_path: Path,
) -> Deployment:
    return Deployment.create(
        repo_root,
        aws,
        interpreter,
        artifacts,
        lambda_api,
        {"PrimaryEndpoint": primary.url, **PARAMETERS},
        tmp_path,
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Printed even under -q: which Python ran the artifact matters for reading the result.
    for used in _used:
        terminalreporter.write_line(f"artifact tier: handlers ran on {used.describe()}")
