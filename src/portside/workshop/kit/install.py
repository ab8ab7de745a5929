"""``portside kit install KIT``: the course on a learner's machine, from the kit alone, with no network.

In order, each step safe to repeat (what is already in place is left alone):

1. **verify** every file against ``manifest.json`` (:func:`~portside.workshop.kit.manifest.verify`): a
   missing, changed or extra file, or a kit of another format version, stops everything, naming it;
2. **course**: copy it into the course folder (default ``./portside``), never over a file the learner changed;
3. **python**: into the venv (default ``COURSE/.venv``, created if missing; or this environment), every
   package from ``KIT/wheels`` (``pip --no-index --require-hashes``), then the course itself, editable;
4. **images**: ``docker load`` each archive and check the image's digest is the kit's;
5. **tools**, **Trivy's database** and the **demo app's wheels**: into the installed course's state folder
   (asked of the installed course itself, so ``PORTSIDE_HOME`` is honoured), each file hash-checked;
6. **doctor**: ``portside doctor`` of the installed course, whose report ends the install.

Nothing here opens a network connection: pip is told ``--no-index`` and reads no configuration, the
engine loads archives, everything else is copying files.
"""

from __future__ import annotations

import json
import os
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from portside.base.proc import run
from portside.errors import SetupError, UsageError
from portside.workshop.kit import course, data, images, tools, wheels
from portside.workshop.kit.course import Placed
from portside.workshop.kit.files import Put
from portside.workshop.kit.manifest import Manifest, verify

__all__ = ["Installed", "StateFolders", "install", "state_folders"]

Say = Callable[[str], object]


@dataclass(frozen=True)
class StateFolders:
    """Where the installed course keeps what the kit installs, as that course itself says."""

    package: Path       #: where its ``portside`` package is imported from
    state: Path         #: ``state_dir()``
    tools: Path         #: ``<state>/tools`` (``bin/`` is in it)
    app_wheels: Path    #: ``sample_app.wheels_dir()``
    trivy_db: Path      #: ``<state>/trivy-db``


_ASK = """
import json, portside
from portside.base.paths import state_dir
from portside.lessons.sample_app import wheels_dir
from portside.tools import bin_dir
print(json.dumps({"package": portside.__file__, "state": str(state_dir()), "tools": str(bin_dir().parent),
                  "app_wheels": str(wheels_dir()), "trivy_db": str(state_dir("trivy-db"))}))
"""


def course_env() -> dict[str, str]:
    """This environment without what ``install.sh`` set to run the kit's own Portside (it must not leak into
    the installed course's processes)."""
    return {key: value for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}


def state_folders(python: Path, course_dir: Path) -> StateFolders:
    """Ask the course installed for ``python`` where its folders are (and check it is the one in ``course_dir``)."""
    done = run([str(python), "-c", _ASK], cwd=course_dir, env=course_env(), timeout=120,
               what="the installed course (asked for its state folder)")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    folders = StateFolders(**{key: Path(value) for key, value in found.items()})
    if not folders.package.resolve().is_relative_to(course_dir.resolve()):
        raise SetupError(f"{python} imports portside from {folders.package.parent}, not from the course just "
                         f"installed in {course_dir}.",
                         hint="Unset PYTHONPATH (or remove the other copy of portside), then install again.")
    return folders


@dataclass
class Installed:
    """What an install did, and the doctor's verdict."""

    kit: Path
    course: Path
    python: Path
    folders: StateFolders
    manifest: Manifest
    placed: Placed
    images: dict[str, images.Outcome] = field(default_factory=dict)
    tools: dict[str, Put] = field(default_factory=dict)
    doctor_ok: bool = False
    doctor: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        loaded = sum(1 for outcome in self.images.values() if outcome == "loaded")
        copied = sum(1 for outcome in self.tools.values() if outcome == "copied")
        verdict = "the doctor says it is ready" if self.doctor_ok else "the doctor found something to fix (above)"
        return (f"Installed the course into {self.course} in {self.seconds:.0f} s ({verdict}):\n"
                f"  course files: {self.placed}\n"
                f"  python: {self.python}\n"
                f"  images: {loaded} loaded, {len(self.images) - loaded} already here\n"
                f"  tools: {copied} installed, {len(self.tools) - copied} already here ({self.folders.tools / 'bin'})\n"
                f"Start the course:  cd {self.course} && {self._command('portside')} start")

    def _command(self, name: str) -> str:
        """``.venv/bin/NAME`` when the venv is in the course folder, else its full path."""
        command = self.python.parent / name
        return str(command.relative_to(self.course)) if command.is_relative_to(self.course) else str(command)


def _refuse_tarball(kit: Path) -> None:
    if kit.is_file() and tarfile.is_tarfile(kit):
        raise UsageError(f"{kit} is the kit's tarball; unpack it first.",
                         hint=f"tar xf {kit.name}  then  sh {kit.name.removesuffix('.tar')}/install.sh "
                              "(or `portside kit install` on the folder)")


def install(kit: Path, *, course_dir: Path, venv: Path | None, say: Say = print) -> Installed:
    """Install the course from the kit folder ``kit`` (see the module docstring).

    ``venv``: the virtual environment to install into, created if missing; None installs into the
    environment running this code.
    """
    began = time.monotonic()
    _refuse_tarball(kit)
    kit, course_dir = kit.absolute(), course_dir.absolute()
    venv = venv.absolute() if venv is not None else None
    manifest = verify(kit, say=say)
    if course_dir.resolve().is_relative_to(kit.resolve()):
        raise UsageError(f"The course folder {course_dir} is inside the kit.",
                         hint="Install the course somewhere else (--course DIR); the kit stays as it was built.")
    placed = course.place(kit, manifest.files, course_dir)
    say(f"course: {placed} ({course_dir})")
    python = wheels.install(kit, course_dir, venv=venv, want=manifest.python, say=say)
    folders = state_folders(python, course_dir)
    # From here this process works for the installed course: its engine client keeps the course's Docker
    # config in that course's state folder (not in the kit, where the copy of Portside running install.sh
    # would otherwise put it, nor in another checkout's)
    os.environ["PORTSIDE_HOME"] = str(folders.state)
    done = Installed(kit, course_dir, python, folders, manifest, placed)
    for entry in manifest.images:
        done.images[entry.name] = images.load(kit, entry, say=say)
    done.tools = tools.install(kit, manifest.tools, manifest.files, folders.tools, say=say)
    data.install_trivy_db(kit, manifest.files, folders.trivy_db, say=say)
    data.install_app_wheels(kit, manifest.files, folders.app_wheels, say=say)
    say("doctor: portside doctor")
    report = run([str(python), "-m", "portside.cli", "doctor"], cwd=course_dir, env={**course_env(), "COLUMNS": "120"},
                 check=False, timeout=600, what="portside doctor")
    done.doctor_ok = report.ok
    done.doctor = (report.stdout + report.stderr).rstrip()
    done.seconds = time.monotonic() - began
    return done
