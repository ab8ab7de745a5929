"""What every command group shares: the consoles, the one way a CI command fails with exit 2, common options.

A command either lets a :class:`~portside.errors.PortsideError` rise to :func:`portside.cli.main.main`
(one rich ``error:`` line, exit **2**), or, for the CI steps (``scan``, ``verify``, ``advisories``) that
must keep their exit codes when invoked on their own, catches it and calls :func:`fail`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from portside.errors import PortsideError

__all__ = ["LEVELS", "advisories_option", "console", "err_console", "fail", "fail_on_option", "say"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

#: the severities a gate can block on, worst first
LEVELS = ("critical", "high", "medium", "low")

_ADVISORIES_HELP = "A folder of OSV records or an OSV all.zip (default: the course's snapshot)."

F = TypeVar("F", bound=Callable[..., Any])


def say(message: str) -> None:
    """Print one line of progress or result (rich markup allowed)."""
    console.print(message)


def fail(exc: PortsideError) -> NoReturn:
    """End a CI command that could not run: its message on stderr, exit code 2."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def advisories_option(dest: str = "advisories_path", *, text: str = _ADVISORIES_HELP) -> Callable[[F], F]:
    """``--advisories PATH``: an OSV folder or all.zip instead of the course's snapshot."""
    return click.option("--advisories", dest, type=click.Path(exists=True, path_type=Path), default=None, help=text)


def fail_on_option(text: str) -> Callable[[F], F]:
    """``--fail-on LEVEL``: the severity (or worse) a gate blocks on; ``critical`` unless told."""
    return click.option("--fail-on", type=click.Choice(LEVELS, case_sensitive=False), default="critical",
                        show_default=True, help=text)

