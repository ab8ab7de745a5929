"""The command line's shape, read with no engine: every group registered from its own module, usage errors
and Portside errors turned into exit code 2 with one line, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from portside.cli import (
    advisories,
    course,
    engine,
    images,
    kit,
    labs,
    main,
    pipeline,
    present,
    scan,
    tools,
    verify,
    workshop,
)
from portside.cli.main import cli
from portside.errors import PortsideError, SetupError
from portside.labs import all_labs

#: each command of the root group, and the module that owns it
OWNERS = {
    "setup": course.setup, "start": course.start, "doctor": course.doctor, "cleanup": course.cleanup,
    "reset": course.reset,
    "images": images.images, "tools": tools.tools, "lab": labs.lab, "labs": labs.labs_group,
    "progress": labs.progress, "scan": scan.scan, "verify": verify.verify, "advisories": advisories.advisories,
    "engine": engine.engine, "pipeline": pipeline.pipeline, "workshop": workshop.workshop, "kit": kit.kit,
    "present": present.present,
}

SUBCOMMANDS = {
    "images": {"ensure", "status", "course"},
    "tools": {"ensure", "status"},
    "lab": {"start", "check", "reset", "fast-forward", "close"},
    "labs": {"list", "build"},
    "advisories": {"download", "list", "trivy-db", "publish"},
    "engine": {"start", "stop", "status"},
    "pipeline": {"run", "build", "tag", "scan", "push", "sign", "verify", "deploy", "cleanup"},
    "workshop": {"up", "down", "status", "sheet", "purge-uploads", "hub"},
    "kit": {"build", "install", "seed"},
}


def test_every_command_comes_from_its_group_module() -> None:
    """The root group holds exactly the course's commands, each the object its group module defines."""
    assert cli.commands == OWNERS


@pytest.mark.parametrize("group", sorted(SUBCOMMANDS))
def test_each_group_has_its_subcommands(group: str) -> None:
    """``portside GROUP --help`` works and names every subcommand of the group."""
    found = cli.commands[group]
    assert set(getattr(found, "commands", {})) == SUBCOMMANDS[group]
    result = CliRunner().invoke(cli, [group, "--help"])
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in SUBCOMMANDS[group])


def test_root_help_and_version() -> None:
    """``-h`` is ``--help``, and ``--version`` names the package's version."""
    helped = CliRunner().invoke(cli, ["-h"])
    assert helped.exit_code == 0 and "Portside: a hands-on course" in helped.output
    assert all(name in helped.output for name in OWNERS)
    version = CliRunner().invoke(cli, ["--version"], prog_name="portside")
    assert version.exit_code == 0 and version.output.startswith("portside, version ")


def test_labs_list_names_every_lab() -> None:
    """``portside labs list`` is one line per lab: slug, then title."""
    result = CliRunner().invoke(cli, ["labs", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{lab.slug:<24} {lab.title}" for lab in all_labs()]


def test_advisories_list_reads_the_snapshot() -> None:
    """``portside advisories list`` needs neither engine nor network: the course's snapshot is in the package."""
    result = CliRunner().invoke(cli, ["advisories", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.split()[:4] == ["id", "severity", "package", "aliases"]
    assert "GHSA-vqfr-h8mv-ghfj" in result.output


def test_a_portside_error_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``main()`` is the one place a PortsideError from a command becomes ``error: …`` and exit code 2."""
    monkeypatch.setattr("sys.argv", ["portside", "lab", "check", "no-such-lab"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no lab called 'no-such-lab'.")
    assert "Traceback" not in err


def test_start_without_jupyterlab_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """``portside start`` with no JupyterLab raises SetupError (``make setup`` is the next step), not the base."""
    monkeypatch.setattr(shutil, "which", lambda *_args, **_kwargs: None)
    result = CliRunner().invoke(cli, ["start"])
    assert isinstance(result.exception, SetupError)
    assert "Run `make setup` first." in str(result.exception)


def test_scan_that_cannot_run_exits_2_on_its_own(tmp_path: Path) -> None:
    """``scan`` is a CI step: invoked alone (no ``main()``), a scan that cannot run is exit 2 and one message."""
    allow = tmp_path / "allow.toml"
    allow.write_text("[[allow]\n", encoding="utf-8")  # not TOML: refused before any image is looked at
    result = CliRunner().invoke(scan.scan, ["busybox:1.35", "--allow", str(allow)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "\n→ " in result.output
    assert result.exception is not None and not isinstance(result.exception, PortsideError)  # it became exit 2


@pytest.mark.parametrize("args", [["scan", "x", "--fail-on", "severe"], ["lab", "fast-forward", "00-first-push"],
                                  ["no-such-command"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    """A bad choice, a missing argument or an unknown command: click's usage message and exit code 2."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "Usage: " in result.output


def test_publish_takes_a_database_or_advisories_not_both(tmp_path: Path) -> None:
    """``advisories publish --db DIR --advisories DIR`` is refused before anything is built or pushed."""
    result = CliRunner().invoke(cli, ["advisories", "publish", "localhost:5000/trivy-db:2",
                                      "--db", str(tmp_path), "--advisories", str(tmp_path)])
    assert result.exit_code == 2
    assert "Give --db (a built database) or --advisories (build one), not both." in result.output
