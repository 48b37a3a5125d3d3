"""Which Python runs the built handlers: a 3.13 (the Lambda runtime's) when the machine has
one, else the Python running the tests.

A pyenv shim for ``python3.13`` fails unless that version is selected, so each candidate is
asked to run rather than trusted for existing; pyenv's own installs are looked at too, as
layers/otlp-failover/Makefile does to find the interpreter that byte-compiles the layer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LAMBDA_PYTHON = (3, 13)  # template.yaml: Runtime: python3.13


@dataclass(frozen=True)
class Interpreter:
    executable: Path
    version: str  # e.g. "3.13.0"

    @property
    def major_minor(self) -> str:
        """What pip's --python-version takes, e.g. "3.13"."""
        return ".".join(self.version.split(".")[:2])

    @property
    def is_lambda_runtime(self) -> bool:
        return self.major_minor == ".".join(map(str, LAMBDA_PYTHON))

    def describe(self) -> str:
        why = (
            "the Lambda runtime's version"
            if self.is_lambda_runtime
            else "the local Python: no python3.13 found"
        )
        return f"Python {self.version} ({self.executable}, {why})"


def find() -> Interpreter:
    wanted = ".".join(map(str, LAMBDA_PYTHON))
    for candidate in _candidates(wanted):
        found = _ask(candidate)
        if found is not None and found.major_minor == wanted:
            return found
    return Interpreter(Path(sys.executable), ".".join(map(str, sys.version_info[:3])))


def _candidates(version: str) -> Iterator[str]:
    on_path = shutil.which(f"python{version}")
    if on_path:
        yield on_path
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for install in sorted((pyenv_root / "versions").glob(f"{version}*"), reverse=True):
        yield str(install / "bin" / f"python{version}")


def _ask(executable: str) -> Interpreter | None:
    """The interpreter's real path and version, or None if it does not run."""
    script = "import sys; print(sys.executable); print('.'.join(map(str, sys.version_info[:3])))"
    try:
        done = subprocess.run(
            [executable, "-I", "-c", script],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        return None
    return Interpreter(Path(lines[0]), lines[1])
