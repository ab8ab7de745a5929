"""The ``portside`` command line: set-up, doctor, images, tools, labs, scanning, advisories and clean-up."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from portside.errors import PortsideError

__all__ = ["main"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _say(message: str) -> None:
    console.print(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portside")
def cli() -> None:
    """Portside: a hands-on course on container registries and image distribution."""


@cli.command()
@click.option("--offline", is_flag=True, default=None, help="Never try to pull; build stand-ins instead.")
@click.option("--no-tools", is_flag=True, help="Skip cosign/syft/trivy.")
@click.option("--engine-only", is_flag=True, help="Only make sure an engine answers (no images, tools or wheels).")
def setup(offline: bool | None, no_tools: bool, engine_only: bool) -> None:
    """Make sure an engine answers, the course images exist and the tools are installed."""
    from portside.engine.daemon import ensure_engine
    from portside.setup.images import ensure as ensure_images
    from portside.setup.images import format_table as image_table
    from portside.tools import ensure as ensure_tools
    from portside.tools import format_table as tool_table

    found = ensure_engine(say=_say)
    _say(f"[green]✔[/] Docker {found.server_version} (API {found.api_version}) answers at {found.address}")
    if engine_only:
        return
    click.echo(image_table(ensure_images(offline=offline, say=_say)))
    if not no_tools:
        click.echo(tool_table(ensure_tools(say=_say)))
    from portside.lessons.sample_app import ensure_wheels

    try:  # the demo app's wheels, downloaded once so lessons 04-05 build it with no network
        _say(f"[green]✔[/] demo app wheels in {ensure_wheels()}")
    except PortsideError as exc:
        _say(f"[yellow]![/] demo app wheels not downloaded: {exc.message}")


@cli.command()
@click.option("--port", default=8888, show_default=True, help="Port for JupyterLab (on 127.0.0.1).")
def start(port: int) -> None:
    """Start JupyterLab on the lessons (prints the URL with its token)."""
    from portside.base.paths import project_root

    root = project_root() or Path.cwd()
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if jupyter is None:
        raise PortsideError("JupyterLab is not installed in this environment.", hint="Run `make setup` first.")
    argv = [jupyter, "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--ServerApp.root_dir={root}", "--ServerApp.default_url=/lab/tree/notebooks/00-setup.ipynb"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    os.execv(jupyter, argv)


@cli.command()
def doctor() -> None:
    """Check the engine, images, tools and disk; say what to fix."""
    from portside.setup.doctor import doctor as run_doctor

    report = run_doctor()
    table = Table(show_header=True, header_style="bold", box=None)
    for column in ("", "area", "what", "state"):
        table.add_column(column)
    mark = {"ok": "[green]✔[/]", "warn": "[yellow]![/]", "fail": "[red]✘[/]"}
    for check in report.checks:
        state = check.detail + (f"\n[italic]→ {check.fix}[/]" if check.fix and check.status != "ok" else "")
        table.add_row(mark[check.status], check.area, check.name, state)
    console.print(table)
    console.print("[green]Ready for the course.[/]" if report.ok else "[red]Not ready yet: fix the ✘ lines.[/]")
    sys.exit(0 if report.ok else 1)


@cli.group()
def images() -> None:
    """The course images (pulled, or built offline as stand-ins)."""


@images.command("ensure")
@click.option("--offline", is_flag=True, default=None, help="Never try to pull; build stand-ins instead.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def images_ensure(offline: bool | None, no_progress: bool) -> None:
    """Make every course image present: pull it, or build a stand-in from Debian packages."""
    from portside.setup.images import ensure, format_table

    click.echo(format_table(ensure(offline=offline, progress=not no_progress, say=_say)))


@images.command("status")
def images_status() -> None:
    """Show which course images are present and how they were made (exit 1 if one is missing)."""
    from portside.setup.images import format_table, status

    found = status()
    click.echo(format_table(found))
    sys.exit(1 if any(image.state == "missing" for image in found) else 0)


@cli.group()
def tools() -> None:
    """The command-line tools: cosign, syft, trivy."""


@tools.command("ensure")
@click.argument("names", nargs=-1)
def tools_ensure(names: tuple[str, ...]) -> None:
    """Find or install cosign, syft and trivy (into the course tools folder); exit 1 if one is missing."""
    from portside.tools import ensure, format_table

    found = ensure(list(names) or None, say=_say)
    click.echo(format_table(found))
    sys.exit(0 if all(tool.ok for tool in found) else 1)


@tools.command("status")
@click.option("--short", is_flag=True, help="Only the table of versions and paths (no hashes, no origins).")
def tools_status(short: bool) -> None:
    """Show each tool's version, where it came from and the sha256 of what runs (exit 1 if one is missing)."""
    from portside.tools import format_table, provenance, status

    if short:
        found = status()
        click.echo(format_table(found))
        sys.exit(0 if all(tool.ok for tool in found) else 1)
    report = provenance.report()
    click.echo(provenance.format_report(report))
    sys.exit(0 if all(item.ok for item in report) else 1)


@cli.group()
def lab() -> None:
    """Work on a lab from the terminal: check, reset, fast-forward, close."""


@lab.command("check")
@click.argument("slug")
@click.option("--task", type=int, default=None, help="Check one task only.")
def lab_check(slug: str, task: int | None) -> None:
    """Grade the live state of lab SLUG (exit 1 if a requirement fails)."""
    from portside.labs import check

    report = check(slug, task)
    console.print(repr(report), markup=False)
    sys.exit(0 if report.passed else 1)


@lab.command("reset")
@click.argument("slug")
def lab_reset(slug: str) -> None:
    """Put lab SLUG back to its start state (starts it if it is not running)."""
    from portside.labs import reset

    reset(slug)
    _say(f"Lab {slug} is back at its start state.")


@lab.command("fast-forward")
@click.argument("slug")
@click.argument("task", type=int)
def lab_fast_forward(slug: str, task: int) -> None:
    """Apply the solution of every task before TASK, so you can go on from there."""
    from portside.labs import fast_forward

    console.print(repr(fast_forward(slug, task)), markup=False)


@lab.command("close")
@click.argument("slug")
def lab_close(slug: str) -> None:
    """Stop lab SLUG and remove everything it made."""
    from portside.labs import close

    close(slug)
    _say(f"Lab {slug} closed.")


@cli.group("labs")
def labs_group() -> None:
    """For lab authors: build student and solution notebooks."""


@labs_group.command("list")
def labs_list() -> None:
    """List the labs."""
    from portside.labs import all_labs

    for found in all_labs():
        click.echo(f"{found.slug:<24} {found.title}")


@labs_group.command("build")
@click.option("--check", "check_only", is_flag=True, help="Only report generated notebooks that are out of date.")
def labs_build(check_only: bool) -> None:
    """Generate labs/SLUG.ipynb (student) and labs/solutions/SLUG.ipynb (executed) from labs/source/."""
    from portside.labs.build import build, is_stale

    if check_only:
        problems = is_stale()
        for problem in problems:
            click.echo(problem)
        sys.exit(1 if problems else 0)
    build(say=_say)


@cli.command()
def progress() -> None:
    """Show your progress through the labs."""
    from portside.labs import progress_table

    click.echo(progress_table())


@cli.command()
@click.option("--images", "images_too", is_flag=True,
              help="Also remove every course image (stand-ins and images the course built).")
@click.option("--build-cache", is_flag=True, help="Also empty the engine's build cache (all of it).")
def cleanup(images_too: bool, build_cache: bool) -> None:
    """Remove every container, network and volume the course created (and, if asked, its images)."""
    from portside.setup.cleanup import cleanup as run_cleanup
    from portside.setup.cleanup import prune_build_cache, remove_images

    removed = run_cleanup()
    _say(f"Removed — {str(removed).removeprefix('Left behind — ')}" if removed else str(removed))
    if images_too:
        names = remove_images()
        kept = [name for name in names if "(kept:" in name]
        _say(f"Removed {len(names) - len(kept)} course image(s) and the untagged build steps on them"
             + (f"; kept {len(kept)}: {'; '.join(kept)}" if kept else "."))
    if build_cache:
        _say(f"Emptied the engine's build cache ({prune_build_cache() / 1e6:.0f} MB freed).")


from portside.cli.scan import advisories as _advisories  # noqa: E402  (registered after the group exists)
from portside.cli.scan import scan as _scan  # noqa: E402
from portside.cli.trivydb import publish_command, trivy_db_command  # noqa: E402
from portside.cli.verify import verify as _verify  # noqa: E402

cli.add_command(_scan)
cli.add_command(_verify)
cli.add_command(_advisories)
_advisories.add_command(trivy_db_command)
_advisories.add_command(publish_command)


def main() -> None:
    """Entry point: run the CLI, turning Portside errors into a clear message and exit code 2."""
    try:
        cli(standalone_mode=True)
    except PortsideError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
