"""The ``portside pipeline`` commands (registered in :mod:`portside.cli.main`): the release pipeline as CI steps.

``portside pipeline run`` runs every step of ``pipeline.toml`` in order and stops at the first that does
not pass; ``portside pipeline STEP`` runs one step on its own (a CI job per step: each reads what the
earlier ones left in the output folder). Each prints one line per step, and exits:

* **0** — every step asked for passed (``run`` without ``--until``: the release is out);
* **1** — a step refused: the gate blocked the image, a base is not pinned, the verification or the
  deployment check said no. The release is blocked;
* **2** — a step could not run: a bad configuration, a step run before the one it needs, the engine,
  the registry or a tool failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from portside.cli.common import fail
from portside.errors import PortsideError

__all__ = ["pipeline"]

F = TypeVar("F", bound=Callable[..., Any])

_STEP_HELP = {
    "build": "Build the image (every FROM pinned by digest, BuildKit, provenance).",
    "tag": "Give the built image the release's tags: version, floating tags, sha-<commit>.",
    "scan": "Scan the built image and apply the gate (nothing is pushed yet).",
    "push": "Push every tag of an image the gate passed.",
    "sign": "Sign the pushed digest and attest its CycloneDX SBOM (cosign, with the key).",
    "verify": "Resolve the release to a digest; verify signature, SBOM attestation and the gate on the signed SBOM.",
    "deploy": "Run the verified digest in a labelled container.",
}


def _options(function: F) -> F:
    """``--config``, ``--registry``, ``--version``, ``--commit``, ``--verbose``: what every pipeline command takes."""
    options = [
        click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     default=Path("pipeline.toml"), show_default=True, help="The pipeline's configuration."),
        click.option("--registry", default=None, metavar="HOST:PORT",
                     help="Release to this registry (instead of [release] registry)."),
        click.option("--version", "version", default=None, metavar="X.Y.Z",
                     help="Release this version (instead of [release] version)."),
        click.option("--commit", default=None, metavar="SHA",
                     help="The commit the sha- tag names (in CI: $GITHUB_SHA)."),
        click.option("--verbose", "-v", is_flag=True, help="Print the real command behind each step."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _pipeline(config_path: Path, registry: str | None, version: str | None, commit: str | None,
              verbose: bool) -> Any:
    from portside.pipeline import Pipeline, load_config

    config = load_config(config_path).with_overrides(version=version, commit=commit)
    say = (lambda command: click.echo(f"  $ {command}")) if verbose else None
    return Pipeline(config, registry=registry, say=say)


@click.group("pipeline")
def pipeline() -> None:
    """The release pipeline of pipeline.toml, whole (`run`) or one step at a time (exit 0 / 1 refused / 2 error)."""


@pipeline.command("run")
@_options
@click.option("--until", type=click.Choice(["build", "tag", "scan", "push", "sign", "verify", "deploy"]),
              default=None, help="Stop after this step.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the run as JSON (each step's outcome, detail, commands and data).")
def run_command(config_path: Path, registry: str | None, version: str | None, commit: str | None, verbose: bool,
                until: str | None, json_path: Path | None) -> None:
    """Run the pipeline from the first step, stopping at the first that does not pass."""
    from portside.pipeline import exit_code

    try:
        release = _pipeline(config_path, registry, version, commit, verbose)
        click.echo(f"{release.title} → {release.endpoint.address}")
        result = release.run(until=until, on_step=lambda step: click.echo(step.line()))
    except PortsideError as exc:  # a configuration that cannot be used: exit 2
        fail(exc)
    code = exit_code(result)
    click.echo(f"{result.verdict} (exit {code})")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result.as_json(), indent=2) + "\n", encoding="utf-8")
    sys.exit(code)


def _step_command(name: str) -> click.Command:
    @_options
    def command(config_path: Path, registry: str | None, version: str | None, commit: str | None,
                verbose: bool) -> None:
        from portside.pipeline import exit_code

        try:
            release = _pipeline(config_path, registry, version, commit, verbose)
            result = release.step(name)
        except PortsideError as exc:
            fail(exc)
        click.echo(result.line())
        sys.exit(exit_code(result))

    command.__doc__ = _STEP_HELP[name] + " (exit 0 passed, 1 refused, 2 could not run)"
    return click.command(name)(command)


for _name in _STEP_HELP:
    pipeline.add_command(_step_command(_name))


@pipeline.command("cleanup")
@_options
def cleanup_command(config_path: Path, registry: str | None, version: str | None, commit: str | None,
                    verbose: bool) -> None:
    """Remove what the pipeline made on this machine: its deployment, the local image and its tags."""
    try:
        _pipeline(config_path, registry, version, commit, verbose).cleanup()
    except PortsideError as exc:
        fail(exc)
    click.echo("removed the pipeline's deployment and local images")
