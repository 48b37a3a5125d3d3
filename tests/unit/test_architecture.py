"""The layout's rules, checked on the source: a test fails when an import crosses a line.

- the package root stays small (at most 12 modules);
- botocore and boto3 are imported only under ``aws/`` (the adapters); ``runtime`` reaches
  them through ``aws.clients``;
- ``failover/`` imports no I/O library, not even through the first-party modules it uses;
- the shipped package never imports the developer tooling (``otlp_failover_dev``), so the
  layer, which copies only ``shared/otlp_failover``, lacks nothing.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "otlp_failover"
IO_LIBRARIES = frozenset(
    {"boto3", "botocore", "urllib3", "requests", "socket", "http", "ssl", "aws_lambda_powertools"}
)
AWS_LIBRARIES = frozenset({"boto3", "botocore"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports_of(path: Path) -> frozenset[str]:
    """Every module ``path`` imports, at any depth of its code (TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_package_root_holds_at_most_12_modules() -> None:
    root = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(root) <= 12, root


@pytest.mark.parametrize("name", sorted(modules()))
def test_botocore_and_boto3_are_imported_only_under_aws(name: str) -> None:
    if name.startswith("otlp_failover.aws."):
        return
    crossing = {
        imported for imported in imports_of(modules()[name]) if top(imported) in AWS_LIBRARIES
    }
    assert not crossing, f"{name} imports {sorted(crossing)}: only otlp_failover.aws may"


def test_failover_imports_no_io_library_even_through_first_party_modules() -> None:
    known = modules()
    pending = [name for name in known if name.startswith("otlp_failover.failover")]
    seen: dict[str, str] = {name: name for name in pending}  # module -> who pulled it in
    while pending:
        name = pending.pop()
        for imported in imports_of(known[name]):
            assert top(imported) not in IO_LIBRARIES, (
                f"{name} (reached from {seen[name]}) imports {imported}"
            )
            if imported in known and imported not in seen:
                seen[imported] = seen[name]
                pending.append(imported)
    assert "otlp_failover.codec.body" in seen  # the walk did follow first-party imports


@pytest.mark.parametrize("name", sorted(modules()))
def test_the_shipped_package_never_imports_the_dev_tooling(name: str) -> None:
    dev = {
        imported for imported in imports_of(modules()[name]) if top(imported) == "otlp_failover_dev"
    }
    assert not dev, f"{name} imports {sorted(dev)}, which the Lambda layer does not ship"
