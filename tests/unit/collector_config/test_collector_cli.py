"""``otlp-failover config from-collector`` and ``config secret-string``: what they print
(never a header value), the parameters file, and the printed commands run by a shell."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from otlp_failover_dev.cli import main
from tests.unit.collector_config.collector_samples import API_TOKEN, BACKUP_TOKEN, ENV, SAMPLE


@pytest.fixture
def collector_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "collector.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert API_TOKEN not in out + err and BACKUP_TOKEN not in out + err
    return code, out, err


def test_the_report_names_levels_secrets_and_commands_but_no_value(
    collector_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "config", "from-collector", str(collector_file))

    assert (code, err) == (0, "")
    assert re.search(r"0  otlphttp/primary\s+https://otlp\.example\.com\s+traces/primary", out)
    assert re.search(r"2  s3/emergency\s+the stack's S3 backup bucket\s+traces/emergency", out)
    document = out.split("FAILOVER_CONFIG", 1)[1].split("\n", 1)[1].split("\n\n", 1)[0]
    assert json.loads(document)["priority_levels"][2] == [{"s3/emergency": {}}]
    assert re.search(
        r"otlp-failover/primary-headers\s+otlphttp/primary\s+x-api-token \(from \$\{API_TOKEN\}\)",
        out,
    )
    assert "aws secretsmanager create-secret --name otlp-failover/secondary-headers" in out
    assert "make deploy PARAMETERS=otlp-failover-parameters.yaml" in out
    assert "--secret-id otlp-failover/primary-headers --query ARN --output text" in out
    assert "exporters.file/emergency: becomes s3/emergency" in out


def test_json_alone_is_the_failover_config(
    collector_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "config", "from-collector", str(collector_file), "--json")
    assert code == 0 and len(out.splitlines()) == 1
    assert json.loads(out)["retry_gap"] == "5s"


def test_the_parameters_file_holds_the_chain_for_sam(
    collector_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parameters = tmp_path / "deploy.yaml"
    code, out, _ = run(
        capsys,
        "config",
        "from-collector",
        str(collector_file),
        "--parameters-file",
        str(parameters),
    )
    text = parameters.read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    _, json_out, _ = run(capsys, "config", "from-collector", str(collector_file), "--json")

    assert code == 0 and f"# {parameters} is written" in out
    assert list(loaded) == ["FailoverConfig"]
    assert json.loads(loaded["FailoverConfig"]) == json.loads(json_out)
    assert API_TOKEN not in text and BACKUP_TOKEN not in text


def test_an_unset_variable_fails_naming_it_and_the_exporter(
    collector_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BACKUP_TOKEN")
    code, out, err = run(capsys, "config", "from-collector", str(collector_file))
    assert (code, out) == (1, "")
    assert "exporters.otlphttp/secondary.headers.x-backup-token" in err
    assert "BACKUP_TOKEN is not set" in err


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "config", "from-collector", str(tmp_path / "nope.yaml"))
    assert code == 1 and "cannot read" in err and "nope.yaml" in err


def test_secret_string_prints_the_headers_object_into_a_pipe_only(
    collector_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "secret-string", str(collector_file), "otlphttp/primary"]) == 0
    assert json.loads(capsys.readouterr().out) == {"x-api-token": API_TOKEN}

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, "config", "secret-string", str(collector_file), "otlphttp/primary")
    assert (code, out) == (1, "") and "refusing to print header values to a terminal" in err

    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    code, _, err = run(capsys, "config", "secret-string", str(collector_file), "file/emergency")
    assert code == 1 and "has no headers" in err


def test_the_printed_create_secret_commands_give_aws_the_values_from_the_environment(
    collector_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commands as printed, run by bash with a stand-in aws that records its arguments."""
    assert main(["config", "from-collector", str(collector_file)]) == 0
    out = capsys.readouterr().out
    commands = re.findall(r"^  (aws secretsmanager create-secret .*\\\n.*)$", out, re.MULTILINE)
    assert len(commands) == 2
    calls = tmp_path / "calls.jsonl"
    fake = tmp_path / "bin" / "aws"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    path = f"{fake.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"
    script = "set -e\n" + "\n".join(commands)
    done = subprocess.run(
        ["bash", "-c", script],
        env={**ENV, "PATH": path, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert API_TOKEN not in done.stdout + done.stderr
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    secrets = {call[3]: json.loads(call[5]) for call in recorded}
    assert [call[:3] + call[4:5] for call in recorded] == [
        ["secretsmanager", "create-secret", "--name", "--secret-string"]
    ] * 2
    assert secrets == {
        "otlp-failover/primary-headers": {"x-api-token": API_TOKEN},
        "otlp-failover/secondary-headers": {"x-backup-token": BACKUP_TOKEN},
    }


def test_local_refuses_flags_the_file_replaces(
    collector_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "local",
        "--collector-config",
        str(collector_file),
        "--primary",
        "http://127.0.0.1:9",
        "--retry-gap",
        "1s",
    )
    assert code == 1
    assert "drop --primary, --retry-gap" in err
