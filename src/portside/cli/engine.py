"""``portside engine``: the Docker Engine the course provides (start, stop, status)."""

from __future__ import annotations

import click

from portside.cli.common import say

__all__ = ["engine"]


@click.group()
def engine() -> None:
    """The course's own current Docker Engine (Engine 28 from Debian's packages, in a private root)."""


@engine.command("start")
def start() -> None:
    """Start it (as root; builds its root file system the first time)."""
    from portside.setup.engine import start as start_engine

    say(f"[green]✔[/] the course's engine answers at {start_engine(say)}")


@engine.command("stop")
def stop() -> None:
    """Stop it, with its containers; remove its bridge and forwarding rule. Images and data stay."""
    from portside.setup.engine import stop as stop_engine

    if not stop_engine(say):
        say("The course's engine was not running.")


@engine.command("status")
def status() -> None:
    """Which engine the course uses: version, image store, builder."""
    from portside.engine.daemon import info
    from portside.engine.provided import SOCKET

    found = info()
    say(f"Docker {found.server_version} (API {found.api_version}) at {found.address}: {found.image_store} image "
        f"store{'; the course’s own engine' if str(SOCKET) in found.address else ''}")
