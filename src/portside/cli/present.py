"""``portside present NN``: a lesson as slides, live in JupyterLab with RISE, or as reveal.js HTML for a projector."""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path

import click

from portside.errors import SetupError

__all__ = ["present"]


@click.command()
@click.argument("lesson", metavar="NN")
@click.option("--port", default=8888, show_default=True, help="Port for JupyterLab (on 127.0.0.1).")
@click.option("--no-browser", is_flag=True, help="Only print the slides' URL (with its token); open no browser.")
@click.option("--html", "html_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the lesson as reveal.js slides into this folder (stored outputs, no kernel) and stop.")
@click.option("--reveal-url", default=None, metavar="URL",
              help="With --html: where the slides load reveal.js 4 from (a folder or URL; default: a CDN).")
def present(lesson: str, port: int, no_browser: bool, html_dir: Path | None, reveal_url: str | None) -> None:
    """Show lesson NN as slides: JupyterLab opens it in RISE, where each code cell runs live with Shift-Enter.

    Sections are slides, their parts subslides (go down), code cells appear one key press at a time; press S for
    the speaker notes. With --html, write the slides as one HTML file instead, for a projector with no kernel.
    """
    from portside.base.paths import project_root
    from portside.lessons import slides

    path = slides.lesson_path(lesson)
    deck = slides.deck(path)
    if deck.slides == 0:
        raise SetupError(f"{path.name} has no slide metadata (no cell is marked as a slide).",
                         hint="Restore the lesson from the course checkout: its cells carry `slideshow` metadata.")
    click.echo(str(deck))
    if html_dir is not None:
        written = slides.export_html(path, html_dir, reveal_url_prefix=reveal_url)
        click.echo(f"Wrote {written}: open it in a browser; S there shows the speaker notes.")
        if not reveal_url:
            click.echo("It loads reveal.js, require.js and jQuery from CDNs (nbconvert's defaults); "
                       "--reveal-url points it at your own copy of reveal.js 4.")
        return
    if importlib.util.find_spec("jupyterlab_rise") is None:
        raise SetupError("RISE, the slides extension for JupyterLab, is not installed in this environment.",
                         hint="Install it with `pip install jupyterlab-rise`, or use `portside present "
                              f"{lesson} --html DIR` for slides without a kernel.")
    from portside.base.jupyterlab import jupyter_executable

    jupyter = jupyter_executable()
    root = project_root() or Path.cwd()
    url_path = slides.rise_path(path, root)
    # the token goes to JupyterLab by its environment (not on its command line, where `ps` would show it), and
    # port_retries=0 keeps the printed URL true: a taken port is an error, not a quiet move to the next one
    env = {**os.environ, "JUPYTER_TOKEN": os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)}
    argv = [jupyter, "lab", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}", f"--ServerApp.default_url={url_path}"]
    if no_browser:
        argv.append("--no-browser")
    if os.geteuid() == 0:
        argv.append("--allow-root")
    click.echo(f"The slides: http://127.0.0.1:{port}{url_path}?token={env['JUPYTER_TOKEN']}")
    click.echo("Shift-Enter runs a cell live; Space and the arrow keys move on; S opens the speaker notes; "
               "Ctrl-C here stops JupyterLab.")
    sys.stdout.flush()
    os.execve(jupyter, argv, env)
