"""One invocation of a built function in a fresh interpreter, as Lambda would run it.

The child sees the build folders and the standard library only (invoke.py sets its import
path under ``-I -S``), and only the environment given here: the function's variables from
template.yaml, the ones the Lambda runtime sets, and the emulator's endpoint and dummy
credentials in place of the execution role's. Nothing of this process's environment,
virtualenv or checkout reaches it.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.artifact.build import Artifacts
from tests.artifact.interpreter import Interpreter
from tests.artifact.template_functions import FunctionSpec

INVOKE = Path(__file__).with_name("invoke.py")
LOG_TAIL = 6000  # characters of the child's log shown when an assertion fails
START_MARGIN = 30.0  # seconds the child may take beyond the function's timeout to start


@dataclass(frozen=True)
class Invocation:
    returncode: int
    report: dict[str, Any]
    log: str  # the child's stdout and stderr: the function's log

    @property
    def error(self) -> dict[str, str] | None:
        return self.report.get("error")

    @property
    def result(self) -> Any:
        """The handler's return value; fails the test, with the log, if it raised or if a
        module came from outside the build folders and the standard library."""
        assert self.returncode == 0 and self.error is None, self.explain()
        assert self.report["foreign_modules"] == [], self.explain()
        return self.report["result"]

    def explain(self) -> str:
        return (
            f"exit {self.returncode}, error {self.error}\n"
            f"foreign modules: {self.report.get('foreign_modules')}\n"
            f"--- log (tail) ---\n{self.log[-LOG_TAIL:]}"
        )


@dataclass(frozen=True)
class LambdaFunction:
    interpreter: Interpreter
    artifacts: Artifacts
    spec: FunctionSpec
    aws_environment: Mapping[str, str]  # the emulator's endpoint and credentials
    workdir: Path  # for the reports; the child's files go nowhere else
    layer_site: Path | None = None  # another layer's python/ folder (a damaged copy)

    @property
    def function_dir(self) -> Path:
        return self.artifacts.functions[self.spec.logical_id]

    @property
    def search_path(self) -> list[Path]:
        """After /var/task, what Lambda searches: /opt/python, then the runtime's packages."""
        return [self.layer_site or self.artifacts.layer_site, self.artifacts.runtime_sdk]

    def environment(self) -> dict[str, str]:
        nowhere = self.workdir / "no-such-file"
        return {
            **self.spec.environment,
            **self.aws_environment,
            # What the Lambda runtime sets (a subset: the ones code here or boto3 reads).
            "AWS_LAMBDA_FUNCTION_NAME": self.spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": self.spec.log_level,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(self.function_dir),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            # No user site, no ~/.aws of this machine.
            "PYTHONNOUSERSITE": "1",
            "AWS_CONFIG_FILE": str(nowhere),
            "AWS_SHARED_CREDENTIALS_FILE": str(nowhere),
        }

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        report = self.workdir / f"report-{uuid.uuid4().hex}.json"
        command = [
            str(self.interpreter.executable),
            *("-I", "-S", "-B"),  # isolated, no site-packages, no .pyc written (/opt is read-only)
            str(INVOKE),
            *("--report", str(report), "--timeout", str(self.spec.timeout)),
            str(self.function_dir),
            *map(str, self.search_path),
        ]
        done = subprocess.run(
            command,
            check=False,
            input=json.dumps(event),
            env=self.environment(),
            cwd=self.function_dir,  # Lambda starts in /var/task
            capture_output=True,
            text=True,
            timeout=self.spec.timeout + START_MARGIN,
        )
        log = done.stdout + done.stderr
        if not report.is_file():
            return Invocation(
                done.returncode, {"error": {"phase": "start", "type": "no report"}}, log
            )
        return Invocation(done.returncode, json.loads(report.read_text(encoding="utf-8")), log)
