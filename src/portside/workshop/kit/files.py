"""Putting one file of the kit in its place on the learner's machine: copied whole, then checked by sha256."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

from portside.errors import HashMismatch
from portside.workshop.kit.manifest import sha256_of

__all__ = ["Put", "put_file"]

Put = Literal["copied", "present"]


def put_file(source: Path, dest: Path, sha256: str, *, mode: int | None = None) -> Put:
    """Make ``dest`` a copy of ``source`` whose sha256 is ``sha256``: ``present`` when it already is one.

    The copy goes to a hidden file beside ``dest`` and replaces it only once its hash is right, so an
    interrupted or bad copy never takes the place of a good file.
    """
    if dest.is_file() and not dest.is_symlink() and sha256_of(dest) == sha256:
        if mode is not None and (dest.stat().st_mode & 0o777) != mode:
            dest.chmod(mode)
        return "present"
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.kit-partial")
    shutil.copyfile(source, partial)
    actual = sha256_of(partial)
    if actual != sha256:
        partial.unlink()
        raise HashMismatch(f"Copying {source.name} to {dest.parent} gave sha256:{actual}, not the kit's "
                           f"sha256:{sha256}.", hint="The kit changed while it was being installed, or the disk "
                                                     "is failing; copy the kit again and install again.")
    if mode is not None:
        partial.chmod(mode)
    os.replace(partial, dest)
    return "copied"
