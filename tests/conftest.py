"""Test-session plumbing: the suite fails if the course left anything behind on the engine.

The run sets one ``PORTSIDE_SESSION`` that its notebook kernels inherit, so every
course resource it makes carries that session label; the check looks only at those
(plus anonymous volumes that appeared during the run) and removes what it finds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_before: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    """Keep the learner's lab progress out of the test run (nbval kernels inherit the environment)."""
    import os
    import tempfile

    folder = tempfile.mkdtemp(prefix="portside-test-progress-")
    os.environ["PORTSIDE_PROGRESS"] = os.path.join(folder, "progress.json")
    # One session label for this run and every notebook kernel it starts, so the leak check below
    # looks only at what this run made (and never at a learner's lab running beside it).
    os.environ["PORTSIDE_SESSION"] = f"test-{uuid.uuid4().hex[:10]}"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's temporary progress folder."""
    import os
    import shutil

    progress = os.environ.get("PORTSIDE_PROGRESS", "")
    folder = os.path.dirname(progress)
    if os.path.basename(folder).startswith("portside-test-progress-"):
        shutil.rmtree(folder, ignore_errors=True)


def _course_resources() -> dict[str, Any]:
    from portside.engine import client
    from portside.labels import course_filter, session_id

    cli = client()
    found: dict[str, Any] = {}
    mine = course_filter(session_id())
    for container in cli.containers.list(all=True, filters=mine):
        found[f"container {container.name}"] = container
    for network in cli.networks.list(filters=mine):
        found[f"network {network.name}"] = network
    for volume in cli.volumes.list(filters=mine):
        found[f"volume {volume.name}"] = volume
    # Images the course built during this run (they carry its session label), except the course images
    from portside.images import CATALOGUE

    for image in cli.images.list(filters=mine):
        if not set(image.tags) & set(CATALOGUE):
            found[f"image {', '.join(image.tags) or image.short_id}"] = image
    # Anonymous volumes (an image's VOLUME, e.g. registry:2's /var/lib/registry) cannot carry labels:
    # one left dangling means a container was removed without its volume.
    for volume in cli.volumes.list(filters={"dangling": True}):
        if len(volume.name) == 64 and not (volume.attrs.get("Labels") or {}):
            found[f"anonymous volume {volume.name[:12]}"] = volume
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    _before.update(_course_resources())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any course container, network, volume or built image (or an anonymous volume) it made is left."""
    from portside.engine import client

    left = {name: obj for name, obj in _course_resources().items() if name not in _before}
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = "The course left these behind (now removed): " + "; ".join(sorted(left))
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    for name in sorted(left, key=lambda n: not n.startswith("container")):  # containers first
        obj = left[name]
        try:
            if name.startswith("container"):
                obj.remove(force=True, v=True)
            elif name.startswith("network"):
                obj.remove()
            elif name.startswith("image"):
                client().images.remove(obj.id, force=True)
            else:
                obj.remove(force=True)
        except Exception:  # already gone
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


#: what ``run_student_notebook`` returns: every code cell's text output, and the check reports among them
StudentRun = tuple[list[str], list[str]]


@pytest.fixture
def run_student_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], StudentRun]:
    """Execute the untouched student notebook of a lab in a fresh kernel, with fresh lab state and progress.

    Returns the text of every code cell's outputs and, among them, the ``lab.check()`` reports, so a
    test can assert that every check is a ✘ with hint 1 and that nothing raised.
    """
    import nbformat
    from nbclient import NotebookClient

    from portside.labs.build import lab_files
    from portside.labs.progress import PROGRESS_ENV

    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))  # fresh lab state for the kernel
    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "progress.json"))  # and fresh progress: hint 1 everywhere

    def run(slug: str) -> StudentRun:
        files = next(f for f in lab_files() if f.slug == slug)
        notebook = nbformat.read(files.student, as_version=4)
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(files.student.parent)}}).execute()
        texts = ["".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
                 for cell in notebook.cells if cell.cell_type == "code"]
        return texts, [t for t in texts if t.startswith(f"Lab {slug}\nTask")]

    return run


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh session of the lab named by the test module's ``SLUG``, with its own progress; closed afterwards."""
    from portside.labs import Progress, start

    session = start(request.module.SLUG, fresh=True, progress=Progress(tmp_path / "progress.json"))
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def pyapp_images() -> Iterator[dict[str, str]]:
    """The demo app built once per run with both pin sets, under test tags: ``{"vulnerable": tag, "fixed": tag}``."""
    from portside import sample_app
    from portside.labels import session_id

    tags = {variant: f"portside-test/pyapp:{variant}-{session_id()}" for variant in ("vulnerable", "fixed")}
    try:
        for variant, tag in tags.items():
            sample_app.build(variant, tag)  # type: ignore[arg-type]
        yield tags
    finally:
        for tag in tags.values():
            sample_app.remove(tag)
