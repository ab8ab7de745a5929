"""The ``portside`` root group and its entry point; each command group lives in its own module beside this one.

======================  ==========================================================
module                  commands
======================  ==========================================================
:mod:`.course`          ``setup``, ``start``, ``doctor``, ``cleanup``, ``reset``
:mod:`.images`          ``images ensure|status|course``
:mod:`.tools`           ``tools ensure|status``
:mod:`.labs`            ``lab start|check|reset|fast-forward|close``, ``labs list|build``, ``progress``
:mod:`.scan`            ``scan``
:mod:`.verify`          ``verify``
:mod:`.pipeline`        ``pipeline run|build|tag|scan|push|sign|verify|deploy|cleanup``
:mod:`.advisories`      ``advisories download|list`` (+ ``trivy-db``, ``publish`` from :mod:`.trivydb`)
:mod:`.workshop`        ``workshop up|down|status|sheet`` (a room registry for a class)
:mod:`.kit`             ``kit build|install`` (the offline kit)
:mod:`.present`         ``present NN`` (a lesson as slides: RISE in JupyterLab, or reveal.js HTML)
:mod:`.common`          the consoles, ``fail`` (exit 2) and the shared options
======================  ==========================================================
"""

from __future__ import annotations

import sys

import click

from portside.cli import advisories, course, engine, images, kit, labs, pipeline, present, scan, tools, verify, workshop
from portside.cli.common import err_console
from portside.errors import PortsideError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portside")
def cli() -> None:
    """Portside: a hands-on course on container registries and image distribution."""


for _command in (course.setup, course.start, course.doctor, course.cleanup, course.reset, images.images, tools.tools,
                 labs.lab, labs.labs_group, labs.progress, scan.scan, verify.verify, advisories.advisories,
                 engine.engine, pipeline.pipeline, workshop.workshop, kit.kit, present.present):
    cli.add_command(_command)


def main() -> None:
    """Entry point: run the CLI, turning Portside errors into a clear message and exit code 2."""
    try:
        cli(standalone_mode=True)
    except PortsideError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
