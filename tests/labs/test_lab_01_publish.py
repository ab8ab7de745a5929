"""Lab 01-publish, proven both ways against the real engine, registry and notebook files.

The scripted solution passes, and so does the CLI way (``docker login --password-stdin``,
``docker tag``, ``docker push``); known-bad attempts fail the intended requirement with
its first hint (then the next): no login, a password printed in the saved notebook
(the raw password and the base64 auth value, printed by a real kernel), a push under
the wrong namespace, the wrong tag, the wrong image.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from portside import engine
from portside.base.paths import isolate_docker_config
from portside.base.proc import run
from portside.engine import provided
from portside.engine.transfer import push, tag
from portside.labs import LabSession, Progress, start
from portside.labs import lab01_publish as lab01
from portside.labs.model import Requirement
from portside.lessons import myapp
from portside.registry.container import docker_login

SLUG = lab01.SLUG


@pytest.fixture(scope="module", autouse=True)
def _myapp_removed_at_the_end() -> Iterator[None]:
    """The lab's setup builds myapp:latest; the tests remove it when they are done."""
    yield
    myapp.remove(myapp.LOCAL_NAME)


@pytest.fixture
def progress(tmp_path: Path) -> Progress:
    return Progress(tmp_path / "progress.json")


@pytest.fixture
def lab(progress: Progress, tmp_path: Path) -> Iterator[LabSession]:
    session = start(SLUG, fresh=True, progress=progress)
    clean = tmp_path / "clean.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), clean)
    lab01.use_notebook(clean)
    address = session.address
    try:
        yield session
    finally:
        session.close()
        _forget_repo_digests(address)


def _forget_repo_digests(address: str) -> None:
    """Drop ``localhost:PORT/…@sha256:…`` names a pull or push left (lab teardown removes tags only)."""
    images = engine.client().images
    for image in engine.list_images():  # one listing, retried if an image vanishes meanwhile
        for name in image.get("RepoDigests") or []:
            if name.startswith(f"{address}/"):
                images.remove(name)


def _publish(lab: LabSession, source: str, repo: str, tag_name: str) -> None:
    assert lab.user and lab.password
    docker_login(lab.address, lab.user, lab.password)
    target = lab.ref(repo, tag_name)
    tag(source, target)
    push(target, progress=False)


def _result(lab: LabSession, requirement: Requirement, task: int) -> tuple[bool, str, int, str | None]:
    result = lab.check(task).requirement(requirement.name)
    return result.passed, result.detail, result.hint_number, result.hint


def _assert_hints_escalate(lab: LabSession, requirement: Requirement, task: int, detail: str) -> None:
    hints = list(requirement.hints)
    assert _result(lab, requirement, task) == (False, detail, 1, hints[0])
    assert _result(lab, requirement, task) == (False, detail, 2, hints[1])
    assert _result(lab, requirement, task) == (False, detail, 3, hints[2])


def _run_notebook(path: Path, sources: list[str]) -> None:
    """Execute cells in a real kernel (working folder = the notebook's) and save the notebook with its outputs."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


# -- the good solution -----------------------------------------------------------------------------------
def test_solution_passes_every_requirement(lab: LabSession) -> None:
    assert not lab.check().passed
    forwarded = lab.fast_forward(len(lab01.LAB.tasks) + 1)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert lab.client().tags(lab01.REPO) == [lab01.TAG]
    assert lab.password and lab.password not in repr(report) + report._repr_html_()


def _docker(*args: str, stdin: str | None = None) -> str:
    """A ``docker …`` command as the learner runs it: the course's docker CLI and client config."""
    isolate_docker_config()
    return run([provided.docker_cli(), *args], input=stdin, timeout=120).stdout


def test_the_cli_way_passes_too(lab: LabSession) -> None:
    """docker login (password on stdin), docker tag, docker push: the registry's state is what is graded."""
    assert lab.user and lab.password
    assert "Login Succeeded" in _docker("login", "--username", lab.user, "--password-stdin", lab.address,
                                        stdin=lab.password)
    assert lab.check(1).passed
    target = lab.ref(lab01.REPO, lab01.TAG)
    _docker("tag", myapp.LOCAL_NAME, target)
    _docker("push", "--quiet", target)
    report = lab.check()
    assert report.passed, repr(report)


def test_solve_steps_are_idempotent(lab: LabSession) -> None:
    lab.fast_forward(3)
    lab.fast_forward(3)
    assert lab.check().passed


# -- task 1: known-bad attempts --------------------------------------------------------------------------
def test_task1_not_logged_in(lab: LabSession) -> None:
    """No login: the login requirement fails (hints escalate); the notebook is clean, so that one passes."""
    _assert_hints_escalate(lab, lab01.LOGGED_IN, 1,
                           "the course's Docker config holds no login for the lab registry")
    assert lab.check(1).requirement(lab01.NO_LEAK.name).passed


def test_task1_password_printed_in_the_saved_notebook(lab: LabSession, tmp_path: Path) -> None:
    """A real kernel prints the password and the raw Docker config; the saved file gives both away."""
    lab.fast_forward(3)
    leaky = tmp_path / "my-lab.ipynb"
    _run_notebook(leaky, [
        "import portside.labs\nlab = portside.labs.attach('01-publish')\nprint('logged in as', lab.user)",
        "print(lab.password)",
        "from portside.oci.credentials import config_file\nprint(config_file().read_text())",
    ])
    lab01.use_notebook(leaky)
    detail = ("in the saved my-lab.ipynb: cell 2 shows the password; "
              "cell 3 shows the base64 auth value of kai")
    _assert_hints_escalate(lab, lab01.NO_LEAK, 1, detail)
    assert lab.check(1).requirement(lab01.LOGGED_IN.name).passed
    assert lab.check(2).requirement(lab01.NO_LEAK.name).detail == detail  # task 2 looks too
    # the fix the hints describe: clear those outputs, save, check again
    nb = nbformat.read(leaky, as_version=4)
    nb.cells[1].outputs = []
    nb.cells[2].outputs = []
    nbformat.write(nb, leaky)
    assert lab.check().passed


def test_task1_missing_notebook_is_reported_not_a_traceback(lab: LabSession, tmp_path: Path) -> None:
    lab.fast_forward(2)
    lab01.use_notebook(tmp_path / "renamed.ipynb")
    result = lab.check(1).requirement(lab01.NO_LEAK.name)
    assert not result.passed and result.error and result.hint is None
    assert result.detail.startswith("There is no saved notebook at renamed.ipynb to check.")
    assert "Traceback" not in repr(lab.check(1))


# -- task 2: known-bad attempts --------------------------------------------------------------------------
def test_task2_wrong_namespace(lab: LabSession) -> None:
    """Copied from the lesson: pushed as ada/myapp:1.0.0."""
    _publish(lab, myapp.LOCAL_NAME, "ada/myapp", lab01.TAG)
    _assert_hints_escalate(lab, lab01.PUSHED, 2,
                           "kai/myapp:1.0.0 not found — there is no repository kai/myapp "
                           "(the registry holds: ada/myapp)")


def test_task2_wrong_tag(lab: LabSession) -> None:
    """Pushed as kai/myapp:1.0 and kai/myapp:latest: neither is 1.0.0."""
    _publish(lab, myapp.LOCAL_NAME, lab01.REPO, "1.0")
    _publish(lab, myapp.LOCAL_NAME, lab01.REPO, "latest")
    result = lab.check(2).requirement(lab01.PUSHED.name)
    assert (result.passed, result.detail, result.hint) == (
        False, "kai/myapp:1.0.0 not found — kai/myapp has tags 1.0, latest", lab01.PUSHED.hints[0])


def test_task2_wrong_image(lab: LabSession) -> None:
    """busybox itself pushed as kai/myapp:1.0.0: the tag exists but holds another image."""
    _publish(lab, myapp.BASE, lab01.REPO, lab01.TAG)
    assert lab.check(2).requirement(lab01.PUSHED.name).passed
    lab.progress.forget(SLUG)
    _assert_hints_escalate(lab, lab01.RIGHT_IMAGE, 2, "kai/myapp:1.0.0 holds a different image than myapp:latest")
    lab01.LAB.tasks[1].solve(lab.context)  # tag and push the right image again: the tag moves
    assert lab.check(2).passed


# -- which notebook the checker reads --------------------------------------------------------------------
def test_setup_records_the_kernels_notebook(lab: LabSession, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """JPY_SESSION_NAME (set by Jupyter for the kernel) names the notebook; use_notebook overrides it."""
    mine = tmp_path / "work" / "01-publish-copy.ipynb"
    mine.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), mine)
    monkeypatch.setenv("JPY_SESSION_NAME", str(mine))
    override = lab01.notebook_path(lab.context)  # the fixture's use_notebook choice
    lab.reset()
    assert lab01.notebook_path(lab.context) == override  # survives a reset
    (lab.context.state.folder / "notebook.json").unlink()
    assert lab01.notebook_path(lab.context) == mine.resolve()
    monkeypatch.delenv("JPY_SESSION_NAME")
    monkeypatch.chdir(tmp_path)
    lab.reset()
    assert lab01.notebook_path(lab.context).name == lab01.NOTEBOOK_NAME  # the course's labs/01-publish.ipynb


# -- closing the lab ---------------------------------------------------------------------------------------
def test_closing_the_lab_removes_the_image_its_setup_built(progress: Progress) -> None:
    """close() removes the myapp:latest that setup built (a course-made name), not only the registry."""
    session = start(SLUG, fresh=True, progress=progress)
    assert engine.client().images.get(myapp.LOCAL_NAME)
    session.close()
    assert myapp.LOCAL_NAME not in engine.image_names()
