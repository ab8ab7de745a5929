"""The course's own commands: ``portside setup``, ``start``, ``doctor``, ``cleanup`` and ``reset``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.table import Table

from portside.cli.common import console, say
from portside.errors import PortsideError

__all__ = ["cleanup", "doctor", "reset", "setup", "start"]


@click.command()
@click.option("--offline", is_flag=True, default=None, help="Never try to pull; build stand-ins instead.")
@click.option("--no-tools", is_flag=True, help="Skip cosign/syft/trivy.")
@click.option("--engine-only", is_flag=True, help="Only make sure an engine answers (no images, tools or wheels).")
@click.option("--engine", "which_engine", type=click.Choice(["current", "system"]), default="current",
              show_default=True,
              help="current: a current engine (Engine 25+, else the course's own Engine 28); "
                   "system: the system's Docker Engine from Debian's docker.io (the compatibility run's 20.10).")
def setup(offline: bool | None, no_tools: bool, engine_only: bool, which_engine: str) -> None:
    """Make sure an engine answers, the course images exist and the tools are installed."""
    from portside.engine.daemon import info, start_system_engine
    from portside.setup.engine import ensure as ensure_engine
    from portside.setup.images import ensure as ensure_images
    from portside.setup.images import format_table as image_table
    from portside.tools import ensure as ensure_tools
    from portside.tools import format_table as tool_table

    if which_engine == "system":
        found = start_system_engine(say=say)
    else:
        ensure_engine(say=say)
        found = info()
    say(f"[green]✔[/] Docker {found.server_version} (API {found.api_version}, {found.image_store} image store) "
        f"answers at {found.address}")
    if engine_only:
        return
    click.echo(image_table(ensure_images(offline=offline, say=say)))
    if not no_tools:
        click.echo(tool_table(ensure_tools(say=say)))
    from portside.lessons.sample_app import ensure_wheels

    try:  # the demo app's wheels, downloaded once so lessons 04-05 build it with no network
        say(f"[green]✔[/] demo app wheels in {ensure_wheels()}")
    except PortsideError as exc:  # any kind: the course works without them until lesson 04
        say(f"[yellow]![/] demo app wheels not downloaded: {exc.message}")


@click.command()
@click.option("--port", default=8888, show_default=True, help="Port for JupyterLab (on 127.0.0.1).")
def start(port: int) -> None:
    """Start JupyterLab on the lessons (prints the URL with its token)."""
    from portside.base.paths import project_root

    root = project_root() or Path.cwd()
    from portside.base.jupyterlab import jupyter_executable, quiet_news

    jupyter = jupyter_executable()

    quiet_news()  # no first-run toast asking about Jupyter's news over the lesson (a room has no internet anyway)
    argv = [jupyter, "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--ServerApp.root_dir={root}", "--ServerApp.default_url=/lab/tree/notebooks/00-setup.ipynb"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    os.execv(jupyter, argv)


@click.command()
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


@click.command()
@click.option("--images", "images_too", is_flag=True,
              help="Also remove every course image (stand-ins and images the course built).")
@click.option("--build-cache", is_flag=True, help="Also empty the engine's build cache (all of it).")
def cleanup(images_too: bool, build_cache: bool) -> None:
    """Remove every container, network and volume the course created (and, if asked, its images)."""
    from portside.room import room as rooms
    from portside.setup.cleanup import cleanup as run_cleanup
    from portside.setup.cleanup import prune_build_cache, remove_images

    room_parts = rooms.down()  # a workshop room's token service is a process: take the room down first
    if room_parts:
        say("Took the workshop room down: " + ", ".join(room_parts) + ".")
    removed = run_cleanup()
    say(f"Removed — {str(removed).removeprefix('Left behind — ')}" if removed else str(removed))
    if images_too:
        names = remove_images()
        kept = [name for name in names if "(kept:" in name]
        say(f"Removed {len(names) - len(kept)} course image(s) and the untagged build steps on them"
            + (f"; kept {len(kept)}: {'; '.join(kept)}" if kept else "."))
    if build_cache:
        say(f"Emptied the engine's build cache ({prune_build_cache() / 1e6:.0f} MB freed).")


@click.command()
@click.option("--progress", "progress_too", is_flag=True, help="Also forget your lab progress (kept otherwise).")
def reset(progress_too: bool) -> None:
    """Back to a clean course state: remove what the lessons and labs made, keep what `make setup` made.

    Takes a workshop room down, closes every lab (its registry, local tags, saved login, passwords and work
    folder), then removes the course's containers, networks, volumes and built images, the local names and
    saved logins of course registries. Course images, tools, wheels and the engine stay; so does anything
    without the course's label, and your ~/.docker. Only this run's namespace (PORTSIDE_NAMESPACE) is touched.
    Safe to run twice.
    """
    from portside.labs import catalog, lifecycle
    from portside.labs.context import LabState
    from portside.labs.progress import Progress
    from portside.room import room as rooms
    from portside.setup.reset import reset as run_reset

    # The layers above setup first: a room's token service is a process, and a lab's state folder knows
    # where its registry was (a workshop room included), which its registry's label alone does not.
    room_parts = rooms.down()
    if room_parts:
        click.echo("Took the workshop room down: " + ", ".join(room_parts) + ".")
    closed = []
    for lab in catalog.all_labs():
        if LabState(lab.slug).folder.exists():
            lifecycle.teardown(lab.slug, forget=True)
            lifecycle.remove_built_images(lab)
            closed.append(lab.slug)
    if closed:
        click.echo(f"Closed {len(closed)} lab{'s' if len(closed) != 1 else ''} (registry, local tags, saved login, "
                   f"passwords, work folder): {', '.join(closed)}.")
    done = run_reset()
    for line in done.lines():
        click.echo(line)
    if not (room_parts or closed or done):
        click.echo("Nothing to reset: no workshop room, lab, course container, network, volume or built image, "
                   "and no saved login for a course registry.")
    for line in done.kept_lines():
        click.echo(line)
    progress = Progress()
    if progress_too:
        had = progress.path.is_file()
        progress.path.unlink(missing_ok=True)
        click.echo(f"Removed your lab progress ({progress.path})." if had else "No lab progress to remove.")
    elif progress.path.is_file():
        click.echo("Kept your lab progress (`portside reset --progress` removes it too).")
