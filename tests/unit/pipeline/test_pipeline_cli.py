"""``portside pipeline``'s exit codes where no engine is needed: a bad configuration, a step out of order, a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from portside.cli.main import cli
from portside.pipeline import STEPS

CONFIG = """\
[release]
registry = "localhost:5999"
repository = "team/app"
version = "1.1.0"

[build]
context = "app"

[sign]
key = "cosign.key"
public_key = "cosign.pub"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "pipeline.toml").write_text(CONFIG)
    return tmp_path


def _invoke(folder: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pipeline", *args, "--config", str(folder / "pipeline.toml")])
    return result.exit_code, result.output


def test_every_step_is_a_command() -> None:
    group = cli.commands["pipeline"]
    assert set(group.commands) == {*STEPS, "run", "cleanup"}  # type: ignore[attr-defined]


def test_a_bad_configuration_is_exit_2(folder: Path) -> None:
    (folder / "pipeline.toml").write_text(CONFIG.replace('version = "1.1.0"', 'version = "one"'))
    code, output = _invoke(folder, "run")
    assert code == 2 and "error: pipeline.toml: [release] version: 'one' is not a semantic version." in output
    assert "Traceback" not in output


def test_a_step_before_the_one_it_needs_is_exit_2(folder: Path) -> None:
    code, output = _invoke(folder, "push")
    assert (code, output.strip()) == (2, "! push     This image was never scanned: run the scan step first (the gate "
                                         "comes before the registry).")


@pytest.mark.parametrize(("step", "state", "line"), [
    ("push", {"scan": {"passed": False}}, "✘ push     The gate blocked team/app:1.1.0: nothing is pushed."),
    ("deploy", {"verify": {"refused": True}}, "✘ deploy   The verify step refused this release: it is not deployed."),
])
def test_a_refusal_is_exit_1(folder: Path, step: str, state: dict[str, object], line: str) -> None:
    """A push after a blocked gate, a deployment after a refused verification: the release is blocked."""
    (folder / "out").mkdir()
    (folder / "out" / "state.json").write_text(json.dumps(state))
    code, output = _invoke(folder, step)
    assert (code, output.strip()) == (1, line)
