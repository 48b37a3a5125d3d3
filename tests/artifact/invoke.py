"""Runs one built handler in this fresh interpreter, as the Lambda Python runtime does.

    python -I -S -B invoke.py --report FILE --timeout SECONDS FUNCTION_DIR LAYER_SITE SDK < event

The function's name and memory come from AWS_LAMBDA_FUNCTION_NAME and
AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which the Lambda runtime sets.

Started with ``-I -S`` the interpreter knows only its standard library; the import path
gets the function's build folder (/var/task), the layer's python/ folder (/opt/python) and
the runtime's SDK, in Lambda's order, and nothing else. Then the cold start (``import
app``), one call of ``app.lambda_handler(event, context)``, and a JSON report written to
REPORT: the handler's result or the error it raised, where each module came from, and any
module loaded from outside those folders and the standard library (a leak: the artifact
would not have it). stdout and stderr stay the function's own log, as in Lambda.

Only the standard library is imported here, before the paths are set.
"""

import argparse
import json
import os
import sys
import sysconfig
import time
import traceback
import uuid
from pathlib import Path

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class LambdaContext:
    """The part of the runtime's context object the handlers use, counting down."""

    def __init__(self, function_name: str, timeout: float, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def foreign_modules(allowed: list[Path]) -> list[str]:
    """Modules loaded from anywhere but ``allowed`` and the interpreter's standard library."""
    paths = sysconfig.get_paths()
    stdlib = [Path(paths["stdlib"]).resolve(), Path(paths["platstdlib"]).resolve()]
    site = {Path(paths["purelib"]).resolve(), Path(paths["platlib"]).resolve()}
    found = []
    for name, module in sorted(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if not where:
            continue  # built in, frozen or a namespace package
        path = Path(where).resolve()
        if path == Path(__file__).resolve():
            continue  # this runner, as __main__: the stand-in for Lambda's own bootstrap
        inside = any(path.is_relative_to(root) for root in allowed)
        in_stdlib = any(path.is_relative_to(root) for root in stdlib)
        in_site = any(path.is_relative_to(root) for root in site)
        if not inside and (not in_stdlib or in_site):
            found.append(f"{name}: {path}")
    return found


def origin(name: str) -> str | None:
    module = sys.modules.get(name)
    return getattr(module, "__file__", None) if module else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--timeout", type=float, required=True)  # the function's, in seconds
    parser.add_argument("function_dir", type=Path)
    parser.add_argument("layers", type=Path, nargs="*")  # in the order Lambda searches them
    args = parser.parse_args()
    function_dir = args.function_dir.resolve()
    layers = [path.resolve() for path in args.layers]
    event = json.load(sys.stdin)
    sys.path[:0] = [str(function_dir), *map(str, layers)]
    report: dict[str, object] = {"python": ".".join(map(str, sys.version_info[:3]))}
    code = 0
    try:
        import app  # type: ignore[import-not-found]  # the function's handler module
    except Exception as exc:  # the runtime's Runtime.ImportModuleError
        traceback.print_exc()
        report["error"] = {"phase": "init", "type": type(exc).__name__, "message": str(exc)}
        code = 2
    else:
        context = LambdaContext(
            os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            args.timeout,
            int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
        )
        try:
            report["result"] = app.lambda_handler(event, context)
        except Exception as exc:
            traceback.print_exc()
            report["error"] = {"phase": "invoke", "type": type(exc).__name__, "message": str(exc)}
            code = 1
    report["origins"] = {m: origin(m) for m in ("app", "otlp_failover", "boto3", "botocore")}
    report["versions"] = {
        m: getattr(sys.modules[m], "__version__", None)
        for m in ("boto3", "botocore")
        if m in sys.modules
    }
    report["sys_path"] = list(sys.path)
    report["foreign_modules"] = foreign_modules([function_dir, *layers])
    args.report.write_text(json.dumps(report, default=str), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
