"""``portside kit``: the offline kit an instructor builds once and every learner machine installs from."""

from __future__ import annotations

import click

__all__ = ["kit"]


@click.group()
def kit() -> None:
    """Build the offline kit (instructor) or install from it (learner, no network)."""
