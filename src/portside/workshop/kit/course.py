"""The course itself in the kit: which files of the checkout a learner needs, and putting them in place.

The files are the checkout's own: what git tracks plus new files it does not ignore (``git ls-files
--cached --others --exclude-standard``), so an instructor's uncommitted work goes in and ``.venv/``,
``.portside/`` and build output stay out. Without git (a course folder that came from a kit) the folder is
walked, leaving out the same generated folders. Either way the parts only the course's own development
uses are left out (:data:`LEFT_OUT`): the test suite, the benchmarks, the CI and container set-ups.

On a learner's machine :func:`place` copies the course into its folder. A file already there with the
kit's content is left alone, and so is one the learner has changed (a lesson notebook they worked in):
a second install never overwrites their work, and says which files it kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from portside.errors import SetupError
from portside.workshop.kit.manifest import FileEntry, sha256_of

__all__ = ["FOLDER", "LEFT_OUT", "Placed", "commit", "course_files", "place"]

#: where the course sits inside the kit
FOLDER = "course"
#: top-level entries of the checkout a learner does not need: the course's own tests, benchmarks, CI and
#: container/Binder set-ups (the kit is the set-up), and git's own files
LEFT_OUT = frozenset({"tests", "benchmarks", "conftest.py", ".ci", ".devcontainer", "binder", ".github",
                      ".gitignore", ".gitattributes"})
#: folders never copied, whichever way the files are listed (git ignores them too)
_GENERATED = frozenset({".git", ".venv", ".portside", "__pycache__", ".ipynb_checkpoints", ".mypy_cache",
                        ".ruff_cache", ".pytest_cache", "build", "dist"})


def _generated(folder: str) -> bool:
    return folder in _GENERATED or folder.endswith(".egg-info")


def _wanted(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and parts[0] not in LEFT_OUT and not any(_generated(part) for part in parts[:-1])


def _walked(root: Path) -> Iterable[str]:
    """Every file under ``root``, generated folders pruned (for a course folder without git)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(name for name in dirs if not _generated(name))
        for name in files:
            yield PurePosixPath(Path(folder, name).relative_to(root)).as_posix()


def _git(root: Path, *args: str) -> str | None:
    if not (root / ".git").exists() or shutil.which("git") is None:
        return None
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False, timeout=60)
    return done.stdout if done.returncode == 0 else None


def course_files(root: Path) -> list[str]:
    """The course's files under ``root`` (POSIX paths relative to it, sorted), as described above."""
    if not (root / "pyproject.toml").is_file():
        raise SetupError(f"{root} has no pyproject.toml, so it is not the course's folder.",
                         hint="Run `portside kit build` from the course checkout, or give it with --course DIR.")
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    names = (name for name in listed.split("\0") if name) if listed is not None else _walked(root)
    # git lists a tracked file deleted from the working tree too; a symlink would escape the kit's hashes
    return sorted(name for name in set(names)
                  if _wanted(name) and (root / name).is_file() and not (root / name).is_symlink())


def commit(root: Path) -> str:
    """The checkout's commit, ``+ uncommitted changes`` when its files differ from it; ``""`` without git."""
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        return ""
    dirty = _git(root, "status", "--porcelain", "--untracked-files=normal")
    return head.strip() + (" + uncommitted changes" if dirty else "")


@dataclass
class Placed:
    """What :func:`place` did with each course file."""

    copied: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)    #: changed by the learner since: left as they are

    def __str__(self) -> str:
        text = f"{len(self.copied)} copied, {len(self.same)} already there"
        if self.kept:
            shown = ", ".join(self.kept[:3]) + (f" and {len(self.kept) - 3} more" if len(self.kept) > 3 else "")
            text += f"; kept {len(self.kept)} you changed ({shown}; delete one to get the kit's copy)"
        return text


def place(kit: Path, files: dict[str, FileEntry], dest: Path) -> Placed:
    """Copy the kit's course files (``files``: the manifest's, keyed by kit path) into ``dest``."""
    placed = Placed()
    prefix = FOLDER + "/"
    for kit_path, entry in sorted(files.items()):
        if not kit_path.startswith(prefix):
            continue
        rel = kit_path.removeprefix(prefix)
        target = dest / rel
        if target.is_file() and not target.is_symlink():
            if target.stat().st_size == entry.size and sha256_of(target) == entry.sha256:
                placed.same.append(rel)
            else:
                placed.kept.append(rel)
            continue
        if target.exists() or target.is_symlink():
            raise SetupError(f"{target} is in the way of the course file {rel} (it is not a plain file).",
                             hint="Move it away, or install the course into another folder (--course).")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.kit-partial")
        shutil.copy2(kit / kit_path, partial)
        os.replace(partial, target)
        placed.copied.append(rel)
    return placed
