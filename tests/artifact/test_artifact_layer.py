"""What the built layer holds, and that the tier notices when it lacks a module.

A module left out of the layer shows only at a deployed cold start; here a copy of the
built layer with one module removed must make the handler fail at its import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.artifact.build import Artifacts
from tests.artifact.deployment import Deployment
from tests.artifact.interpreter import LAMBDA_PYTHON, Interpreter
from tests.artifact.otlp_events import status_page


def pinned_requirements(path: Path, python: str) -> dict[str, str]:
    """name -> pinned version of each requirement that applies to Python ``python``."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate({"python_version": python}):
            continue
        [pin] = requirement.specifier  # runtime.txt pins each: name==version
        assert pin.operator == "==", text
        pins[canonicalize_name(requirement.name)] = pin.version
    return pins


def test_the_layer_holds_the_product_package_and_each_pinned_dependency(
    artifacts: Artifacts, interpreter: Interpreter, repo_root: Path
) -> None:
    site = artifacts.layer_site
    shipped = {
        p.relative_to(site / "otlp_failover") for p in (site / "otlp_failover").rglob("*.py")
    }
    assert shipped == artifacts.product_modules
    installed: dict[str, str] = {}
    for folder in site.glob("*.dist-info"):
        name, version = folder.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[canonicalize_name(name)] = version
    wanted = pinned_requirements(
        repo_root / "requirements" / "runtime.txt", interpreter.major_minor
    )
    assert {name: installed.get(name) for name in wanted} == wanted
    # The developer tooling and the SDK the runtime brings stay out.
    assert not {"otlp_failover_dev", "boto3", "botocore"} & {p.name for p in site.iterdir()}


def test_the_layer_ships_bytecode_for_the_lambda_python_when_the_machine_has_one(
    artifacts: Artifacts, interpreter: Interpreter
) -> None:
    site = artifacts.layer_site
    tag = "cpython-{}{}".format(*LAMBDA_PYTHON)
    sources = sorted((site / "otlp_failover").rglob("*.py"))
    compiled = [s for s in sources if (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").is_file()]
    if interpreter.is_lambda_runtime:
        assert compiled == sources
    else:  # no python3.13 here: the Makefile ships sources only, and no stale bytecode
        assert list(site.rglob("*.pyc")) == []


def copy_of_the_layer(artifacts: Artifacts, tmp_path: Path, removed: str | None = None) -> Path:
    """The built layer's python/ folder copied (not rebuilt), less ``removed``."""
    layer = tmp_path / "opt" / "python"
    shutil.copytree(artifacts.layer_site, layer, symlinks=True)
    if removed is not None:
        target = layer / removed
        assert target.exists(), f"{removed} is not in the layer: update this test"
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return layer


def test_a_copy_of_the_built_layer_runs(
    deployment: Deployment, artifacts: Artifacts, tmp_path: Path
) -> None:
    """The control for the test below: the copy and its place on the path are sound."""
    ingest = deployment.function(
        "IngestFunction", layer_site=copy_of_the_layer(artifacts, tmp_path)
    )

    invocation = ingest.invoke(deployment.event("ingest-status"))

    status_page(invocation.result)
    assert Path(invocation.report["origins"]["otlp_failover"]).is_relative_to(tmp_path)


@pytest.mark.parametrize(
    ("removed", "module"),
    [
        ("otlp_failover/backup/writer.py", "otlp_failover.backup.writer"),  # the product
        ("orjson", "orjson"),  # a dependency the Lambda runtime does not bring
    ],
)
def test_a_layer_missing_a_module_fails_the_cold_start(
    deployment: Deployment, artifacts: Artifacts, tmp_path: Path, removed: str, module: str
) -> None:
    layer = copy_of_the_layer(artifacts, tmp_path, removed)
    ingest = deployment.function("IngestFunction", layer_site=layer)

    invocation = ingest.invoke(deployment.event("ingest-status"))

    assert invocation.returncode != 0, invocation.explain()
    assert invocation.error is not None, invocation.explain()
    assert invocation.error["phase"] == "init", invocation.explain()
    assert invocation.error["type"] == "ModuleNotFoundError", invocation.explain()
    assert f"No module named '{module}'" in invocation.error["message"], invocation.explain()
