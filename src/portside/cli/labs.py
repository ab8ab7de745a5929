"""The labs from a terminal: ``portside lab`` (a learner's check, reset, fast-forward, close),
``portside labs`` (an author's list and build) and ``portside progress``."""

from __future__ import annotations

import sys

import click

from portside.cli.common import console, say

__all__ = ["lab", "labs_group", "progress"]


@click.group()
def lab() -> None:
    """Work on a lab from the terminal: start (alone or in a workshop room), check, reset, fast-forward, close."""


@lab.command("check")
@click.argument("slug")
@click.option("--task", type=int, default=None, help="Check one task only.")
def lab_check(slug: str, task: int | None) -> None:
    """Grade the live state of lab SLUG (exit 1 if a requirement fails)."""
    from portside.labs import check

    report = check(slug, task)
    console.print(repr(report), markup=False)
    sys.exit(0 if report.passed else 1)


@lab.command("start")
@click.argument("slug")
@click.option("--room", default=None, envvar="PORTSIDE_ROOM", show_envvar=True,
              help="Run the lab in a workshop room: the room registry's HOST:PORT from your sheet.")
@click.option("--user", default=None, envvar="PORTSIDE_ROOM_USER", show_envvar=True,
              help="Your account in the room (learner-NN).")
@click.option("--password-stdin", is_flag=True, help="Read your room password from standard input.")
@click.option("--ca-file", default=None, envvar="PORTSIDE_ROOM_CA", show_envvar=True,
              help="The room's CA certificate (a room served with TLS on a LAN address).")
def lab_start(slug: str, room: str | None, user: str | None, password_stdin: bool, ca_file: str | None) -> None:
    """Start lab SLUG: on a registry of its own, or in a workshop room (--room) under your namespace."""
    import os

    from portside.labs import start

    password = None
    if room is not None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif os.environ.get("PORTSIDE_ROOM_PASSWORD") is None and os.environ.get("PORTSIDE_ROOM_PASSWORD_FILE") is None:
            password = click.prompt(f"Room password for {user or 'your account'}", hide_input=True)
    session = start(slug, room=room, user=user, password=password, ca_file=ca_file)
    where = f"the room {room}, under {session.user}/" if room else session.context.address
    say(f"Lab {slug} is ready on {where}.")


@lab.command("reset")
@click.argument("slug")
def lab_reset(slug: str) -> None:
    """Put lab SLUG back to its start state (starts it if it is not running)."""
    from portside.labs import reset

    reset(slug)
    say(f"Lab {slug} is back at its start state.")


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
    say(f"Lab {slug} closed.")


@click.group("labs")
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
    build(say=say)


@click.command()
def progress() -> None:
    """Show your progress through the labs."""
    from portside.labs import progress_table

    click.echo(progress_table())
