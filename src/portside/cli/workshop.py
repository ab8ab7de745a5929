"""``portside workshop``: one registry for a room of learners (token auth, a namespace each), and its board."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from portside.cli.common import console, say

__all__ = ["workshop"]


@click.group()
def workshop() -> None:
    """Run a workshop: the room registry, the learners' credentials, the progress board."""


@workshop.command("up")
@click.option("--learners", type=click.IntRange(1, 200), required=True, help="How many learner accounts to make.")
@click.option("--listen", default="127.0.0.1", show_default=True,
              help="The address to serve on: loopback, or the machine's address on the room's LAN (then TLS).")
@click.option("--port", type=int, default=None, help="The registry's port (default: a free one).")
@click.option("--token-port", type=int, default=None, help="The token service's port (default: a free one).")
@click.option("--token-ttl", type=int, default=300, show_default=True, help="Seconds a token lives.")
@click.option("--seed/--no-seed", default=True, show_default=True,
              help="Push the course images into the room under course/ so learners pull from it.")
@click.option("--kit", "kit_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Seed from this offline kit's images (portside kit build) instead of this engine's.")
def up(learners: int, listen: str, port: int | None, token_port: int | None, token_ttl: int, seed: bool,
       kit_dir: Path | None) -> None:
    """Start the room registry (token auth) and its token service; write the credentials sheet."""
    from portside.room import room as rooms
    from portside.room.sheet import write_sheet

    room = rooms.up(learners, listen=listen, port=port, token_port=token_port, ttl=token_ttl)
    sheet = write_sheet(room)
    say(f"The room is up: registry {room.address}, token service {room.token_url}, {learners} learners.")
    if seed and kit_dir is not None:
        from portside.room.policy import INSTRUCTOR
        from portside.workshop.kit.seed import seed as seed_from_kit

        refs = seed_from_kit(kit_dir, room.endpoint_for(INSTRUCTOR), say=say)
        names = [ref.split("/", 1)[1].split("@")[0] for ref in refs]  # course/NAME:TAG
        say(f"Seeded {len(refs)} image(s) from the kit: {', '.join(names)}.")
    elif seed:
        from portside.room.seed import seed_course_images

        pushed = seed_course_images(room)
        say(f"Seeded {len(pushed)} course image(s): {', '.join(pushed)}.")
    say(f"Credentials sheet (print it): {sheet / 'index.html'}; one file per learner beside it.")
    if room.settings.tls:
        address = room.address
        say(f"The room speaks TLS with its own CA, {sheet / 'ca.crt'}. Each learner trusts it once:\n"
            f"  sudo mkdir -p /etc/docker/certs.d/{address} && sudo cp ca.crt /etc/docker/certs.d/{address}/\n"
            f"  (Docker Desktop: ~/.docker/certs.d/{address}/ca.crt; Go tools: SSL_CERT_FILE=ca.crt)")


@workshop.command("down")
def down() -> None:
    """Remove the room: registry, data, token service, keys, accounts and sheet (every credential stops working)."""
    from portside.room import room as rooms

    removed = rooms.down()
    say("Removed " + ", ".join(removed) + "." if removed else "No room was up.")


@workshop.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--lab", "labs", multiple=True, help="Only these labs (slug; repeatable).")
def status(fmt: str, labs: tuple[str, ...]) -> None:
    """The progress board: each lab's checkers against each learner's namespace, and who is stuck where."""
    from portside.room import room as rooms
    from portside.workshop.board import board

    room = rooms.current()
    health = room.status()
    result = board(room, labs=list(labs) or None)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2))
    elif fmt == "csv":
        click.echo(result.as_csv(), nl=False)
    else:
        stored = f", {health.stored / 1e6:.0f} MB stored" if health.stored is not None else ""
        uploads = (f", {health.uploads} unfinished upload(s) (`portside workshop purge-uploads` when the room is "
                   "quiet, if pushes fail for lack of space)") if health.uploads else ""
        say(f"Room {room.address}: registry {health.registry}, token service {health.tokens}, "
            f"{health.issued} tokens issued{stored}{uploads}.")
        console.print(str(result), markup=False)
    sys.exit(0 if health.healthy else 1)


@workshop.command("sheet")
def sheet() -> None:
    """Write the credentials sheet again and say where it is (it holds passwords: print it, do not share it)."""
    from portside.room import room as rooms
    from portside.room.sheet import write_sheet

    folder = write_sheet(rooms.current())
    say(f"Credentials sheet: {folder / 'index.html'}; one file per learner beside it.")


@workshop.command("purge-uploads")
def purge_uploads() -> None:
    """Remove the room registry's unfinished uploads (after a full disk; an upload in flight fails and is retried)."""
    from portside.room import room as rooms

    removed = rooms.current().purge_uploads()
    say(f"Removed {removed} unfinished upload(s)." if removed else "No unfinished uploads.")


@workshop.group("hub")
def hub_group() -> None:
    """The room server: JupyterHub, one course-image server and one Docker Engine per learner (docs/hub.md)."""


@hub_group.command("up")
@click.option("--port", type=int, default=None, help="The hub's port on 127.0.0.1 (default: a free one).")
def hub_up(port: int | None) -> None:
    """Start JupyterHub for the room's accounts (run `portside workshop up` first)."""
    from portside.room import room as rooms
    from portside.setup import course_image
    from portside.workshop.hub import hub, image

    rooms.current()  # the hub logs learners in with the room's accounts
    if not image.exists(course_image.TAG):
        course_image.build(say=say)
    if not image.exists():
        image.build()
    running = hub.up(rooms.folder(), port=port)
    say(f"JupyterHub is up at {running.url}: learners log in with the room's accounts (the credentials sheet).")


@hub_group.command("down")
def hub_down() -> None:
    """Stop the hub: its proxy, every learner's server and engine, their data and bridges."""
    from portside.workshop.hub import hub

    removed = hub.down()
    say(f"Stopped {removed['hub']} hub, {removed['servers']} leftover server(s), {removed['engines']} engine(s).")
