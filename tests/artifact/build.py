"""Builds what ``sam build`` builds, with the same Makefiles, for this host's Python.

Only the layer's wheel selection differs: ``PIP_PLATFORM_FLAGS`` picks wheels for the
interpreter that runs the handlers instead of arm64 ones for the Lambda runtime. Like
``sam build``, make runs outside the repository (in the output folder) with ``-f``; each
target writes into its own ``ARTIFACTS_DIR``. Besides, the boto3 that the Lambda runtime
bundles (requirements/lambda-runtime.txt) goes into a folder of its own, which stands in
for the runtime's site-packages.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.artifact.interpreter import Interpreter

LAYER_ID = "OtlpFailoverLayer"
FUNCTION_IDS = {"ingest": "IngestFunction", "probe": "ProbeFunction", "drain": "DrainFunction"}
BUILD_TIMEOUT = 300.0  # seconds; a cold pip cache fetches every wheel from the index


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Artifacts:
    layer: Path  # the layer's ARTIFACTS_DIR; Lambda mounts its content at /opt
    functions: Mapping[str, Path]  # logical id -> the function's ARTIFACTS_DIR (/var/task)
    runtime_sdk: Path  # the boto3 and botocore the Lambda runtime brings
    product_modules: frozenset[Path]  # shared/otlp_failover's .py files when it was copied

    @property
    def layer_site(self) -> Path:
        """What Lambda puts on sys.path as /opt/python."""
        return self.layer / "python"


def build(repo: Path, out: Path, interpreter: Interpreter) -> Artifacts:
    """Build the layer, the three functions and the runtime's SDK into ``out``."""
    python = interpreter.major_minor
    sdk = out / "lambda-runtime"
    # The SDK download runs beside the layer's: the two pip runs are most of the time.
    sdk_log = out / "lambda-runtime-pip.log"
    with sdk_log.open("w") as log:
        sdk_install = subprocess.Popen(
            [
                sys.executable,
                *("-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--no-compile", "--only-binary=:all:", "--python-version", python),
                *("--target", str(sdk), "-r", str(repo / "requirements" / "lambda-runtime.txt")),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    product = repo / "shared" / "otlp_failover"
    modules = frozenset(path.relative_to(product) for path in product.rglob("*.py"))
    try:
        layer = _make(
            repo / "layers" / "otlp-failover" / "Makefile",
            LAYER_ID,
            out,
            {"PIP_PLATFORM_FLAGS": f"--only-binary=:all: --python-version {python}"},
        )
        functions = {
            logical_id: _make(repo / "functions" / name / "Makefile", logical_id, out)
            for name, logical_id in FUNCTION_IDS.items()
        }
        try:
            sdk_install.wait(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise BuildError(
                f"installing the runtime's SDK took over {BUILD_TIMEOUT:.0f} s"
            ) from exc
    finally:
        if sdk_install.poll() is None:
            sdk_install.kill()
            sdk_install.wait()
    if sdk_install.returncode != 0:
        raise BuildError(
            f"installing requirements/lambda-runtime.txt failed:\n{sdk_log.read_text()}"
        )
    # The runtime's own packages come compiled; the handlers' interpreter writes none.
    _run([str(interpreter.executable), "-m", "compileall", "-q", "-j", "0", str(sdk)], out)
    return Artifacts(layer, functions, sdk, modules)


def _make(
    makefile: Path, logical_id: str, out: Path, variables: Mapping[str, str] | None = None
) -> Path:
    target = out / logical_id
    target.mkdir(parents=True)  # sam build creates ARTIFACTS_DIR before it runs make
    assignments = [
        f"{k}={v}" for k, v in {"ARTIFACTS_DIR": str(target), **(variables or {})}.items()
    ]
    _run(
        ["make", "--no-print-directory", "-f", str(makefile), f"build-{logical_id}", *assignments],
        out,
    )
    return target


def _run(command: Sequence[str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            command, check=False, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{' '.join(command)} took over {BUILD_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise BuildError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
