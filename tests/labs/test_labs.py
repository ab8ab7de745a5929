"""The lab system, proven both ways against the real engine and registry.

For lab 00 the scripted solution passes every requirement, and one known-bad
attempt per task fails the intended requirement with its first hint (and the next
hint when asked again). Also: a stopped registry gives a failed check, not a
traceback; reset is quick and complete; progress is recorded. For every lab of the
catalogue: its student notebook is current, holds no solution, and runs top to bottom
with each check showing the start state (:func:`test_student_notebook`).

The model and the notebook transformation without Docker are in ``tests/unit/labs/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import nbformat
import pytest

from portside import engine
from portside.base.labels import session_id
from portside.base.paths import isolate_docker_config
from portside.base.proc import run
from portside.engine import provided
from portside.engine.build import build
from portside.engine.transfer import push, tag
from portside.labs import LabContext, LabNotRunning, LabSession, Progress, attach, catalog, start
from portside.labs import lab00_first_push as lab00
from portside.labs import lab01_publish as lab01
from portside.labs import lab02_release as lab02
from portside.labs import lab03_private_registry as lab03
from portside.labs import lab04_pass_the_gate as lab04
from portside.labs import lab06_team_builds as lab06
from portside.labs import lab07_release_pipeline as lab07
from portside.labs.build import BEGIN_HIDDEN, BEGIN_SOLUTION, CODE_STUB, END_SOLUTION, LabFiles, is_stale, lab_files
from portside.labs.context import lab_containers
from portside.labs.lifecycle import provision, teardown
from portside.labs.model import Lab, Requirement, Task
from portside.labs.predicates import anonymous_refused, manifest_deleted, signed_by_key, user_can_pull
from portside.labs.progress import PROGRESS_ENV, progress_view
from portside.registry.container import docker_login

StudentRunner = Callable[[str], tuple[list[str], list[str]]]

ROOT = Path(__file__).resolve().parents[2]
SLUG = lab00.LAB.slug
REPO = lab00.REPO
#: busybox:1.35 rebuilt with one more label (same layers, new digest), under this run's own tag
OTHER_IMAGE = f"portside-test/labs-other:1-{session_id()}"


# -- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """busybox:1.35 must exist; a look-alike with another digest is built (BuildKit) for the bad attempts."""
    images = engine.client().images
    try:
        images.get(lab00.SOURCE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{lab00.SOURCE} is missing: run `portside images ensure` before the tests.")
    context = tmp_path_factory.mktemp("labs-other")
    (context / "Dockerfile").write_text(f"FROM {lab00.SOURCE}\nLABEL org.portside.test=labs-other\n")
    build(context, tag=OTHER_IMAGE)
    try:
        yield
    finally:
        images.remove(OTHER_IMAGE, noprune=False)


@pytest.fixture
def progress(tmp_path: Path) -> Progress:
    return Progress(tmp_path / "progress.json")


@pytest.fixture
def lab(progress: Progress) -> Iterator[LabSession]:
    session = start(SLUG, fresh=True, progress=progress)
    try:
        yield session
    finally:
        session.close()


def _push(ctx: LabContext, source: str, repo: str, tag_name: str, *, login: bool = True) -> None:
    target = ctx.ref(repo, tag_name)
    tag(source, target)
    if login:
        assert ctx.user and ctx.password
        docker_login(ctx.address, ctx.user, ctx.password)
        push(target, progress=False)
    else:
        push(target, username=ctx.user, password=ctx.password, progress=False)


def _hint(lab: LabSession, requirement: Requirement, task: int) -> tuple[bool, int, str | None]:
    result = lab.check(task).requirement(requirement.name)
    return result.passed, result.hint_number, result.hint


def _assert_fails_with_hints(lab: LabSession, requirement: Requirement, task: int) -> None:
    """Failed with hint 1; checking again reveals hint 2, then 3, and stays at the last."""
    hints = list(requirement.hints)
    assert _hint(lab, requirement, task) == (False, 1, hints[0])
    assert _hint(lab, requirement, task) == (False, 2, hints[1])
    for _ in range(2):
        assert _hint(lab, requirement, task) == (False, len(hints), hints[-1])


# -- (a) the good solution -----------------------------------------------------------------------------
def test_solution_passes_every_requirement(lab: LabSession, progress: Progress) -> None:
    """fast_forward past the last task applies every solve step; every requirement then holds."""
    before = lab.check()
    assert not before.passed
    forwarded = lab.fast_forward(len(lab00.LAB.tasks) + 1)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert all(r.passed and r.hint is None for t in report.tasks for r in t.results)
    assert "✘" not in repr(report) and "✘" not in report._repr_html_()


def _docker(*args: str, stdin: str | None = None) -> str:
    """A ``docker …`` command as the learner runs it: the course's docker CLI and client config."""
    isolate_docker_config()
    return run([provided.docker_cli(), *args], input=stdin, timeout=120).stdout


def test_lab00_the_cli_way_passes_too(lab: LabSession) -> None:
    """docker login (password on stdin), docker tag and docker push for both tasks: the checker grades state."""
    assert lab.user and lab.password
    _docker("login", "--username", lab.user, "--password-stdin", lab.address, stdin=lab.password)
    for tag_name in ("1.0", "1"):
        _docker("tag", lab00.SOURCE, lab.ref(REPO, tag_name))
        _docker("push", "--quiet", lab.ref(REPO, tag_name))
        report = lab.check(1 if tag_name == "1.0" else 2)
        assert report.passed, repr(report)
    assert lab.check().passed


def test_progress_records_passes(lab: LabSession, progress: Progress) -> None:
    """Checks count as attempts, a fast-forwarded task is 'skipped', a passing check marks it passed."""
    lab.check(1)
    assert progress.task(SLUG, 1).attempts == 1 and not progress.task(SLUG, 1).passed
    assert progress.task(SLUG, 1).hints_shown == {r.name: 1 for r in lab00.LAB.tasks[0].requirements}
    lab.fast_forward(2)
    assert progress.task(SLUG, 1).skipped
    lab.check(2)
    lab00.LAB.tasks[1].solve(lab.context)
    lab.check(2)
    data = json.loads(progress.path.read_text())
    assert data[SLUG]["2"]["passed"] is True and data[SLUG]["2"]["attempts"] == 2
    assert data[SLUG]["1"]["passed"] is False and data[SLUG]["1"]["skipped"] is True
    view = progress_view(progress)
    assert "✔ 00-first-push 2." in repr(view) and "⏭ 00-first-push 1." in repr(view)
    assert "<table>" in view._repr_html_()


# -- (b) known-bad attempts, one requirement each ------------------------------------------------------
def test_task1_wrong_namespace(lab: LabSession) -> None:
    """Pushed as hello:1.0 (no learner/ namespace): 'is in the registry' fails and says what is there."""
    _push(lab.context, lab00.SOURCE, "hello", "1.0")
    result = lab.check(1).requirement(lab00.PUSHED.name)
    assert not result.passed and not result.error
    assert result.detail == "learner/hello:1.0 not found — there is no repository learner/hello " \
                            "(the registry holds: hello)"
    assert result.hint == lab00.PUSHED.hints[0]
    _hint(lab, lab00.PUSHED, 1)  # hint 2 shown by this second failed check
    assert lab.check(1).requirement(lab00.PUSHED.name).hint == lab00.PUSHED.hints[2]
    assert lab.check(1).requirement(lab00.LOGGED_IN.name).passed


def test_task1_push_without_saved_login(lab: LabSession) -> None:
    """Pushed with one-off credentials, never logged in: only the login requirement fails."""
    _push(lab.context, lab00.SOURCE, REPO, "1.0", login=False)
    report = lab.check(1)
    assert report.requirement(lab00.PUSHED.name).passed and report.requirement(lab00.RIGHT_IMAGE.name).passed
    assert report.requirement(lab00.LOGGED_IN.name).detail == \
        "the course's Docker config holds no login for the lab registry"
    assert report.requirement(lab00.LOGGED_IN.name).hint == lab00.LOGGED_IN.hints[0]


def test_task1_wrong_image(lab: LabSession) -> None:
    """Another image pushed as learner/hello:1.0: the tag exists, but 'is busybox' fails, hints escalate."""
    _push(lab.context, OTHER_IMAGE, REPO, "1.0")
    assert lab.check(1).requirement(lab00.PUSHED.name).passed
    lab.progress.forget(SLUG)
    _assert_fails_with_hints(lab, lab00.RIGHT_IMAGE, 1)
    assert lab.check(1).requirement(lab00.RIGHT_IMAGE.name).detail == \
        "learner/hello:1.0 holds a different image than busybox:1.35"


def test_task2_only_one_tag(lab: LabSession) -> None:
    """Only 1.0 pushed: the second tag is missing; the hint walks from nudge to solution idea."""
    lab.fast_forward(2)
    report = lab.check(2)
    result = report.requirement(lab00.SAME_DIGEST.name)
    assert result.detail == "learner/hello lacks 1 — learner/hello has tag 1.0"
    assert result.hint == lab00.SAME_DIGEST.hints[0]
    assert report.requirement(lab00.NO_LATEST.name).passed
    hint = lab.hint(2)
    assert repr(hint).endswith(f"hint 2 of 3: {lab00.SAME_DIGEST.hints[1]}")
    assert lab.check(2).requirement(lab00.SAME_DIGEST.name).hint == lab00.SAME_DIGEST.hints[2]


def test_task2_second_tag_on_a_different_digest(lab: LabSession) -> None:
    """Tag 1 points at another image: both tags exist but 'same image' fails."""
    lab.fast_forward(2)
    _push(lab.context, OTHER_IMAGE, REPO, "1")
    lab.progress.forget(SLUG)
    _assert_fails_with_hints(lab, lab00.SAME_DIGEST, 2)
    assert lab.check(2).requirement(lab00.SAME_DIGEST.name).detail == \
        "learner/hello:1 points at a different manifest than learner/hello:1.0"


def test_task2_latest_pushed(lab: LabSession) -> None:
    """A push without a tag (= latest): 'no latest' fails even though both tags are right."""
    lab.fast_forward(3)
    _push(lab.context, lab00.SOURCE, REPO, "latest")
    report = lab.check(2)
    assert report.requirement(lab00.SAME_DIGEST.name).passed
    result = report.requirement(lab00.NO_LATEST.name)
    assert (result.passed, result.detail, result.hint) == (False, "learner/hello has a tag latest",
                                                           lab00.NO_LATEST.hints[0])


def test_checking_all_tasks_hints_only_the_current_one(lab: LabSession) -> None:
    report = lab.check()
    assert all(r.hint_number == 1 for r in report.task(1).results)
    assert all(r.hint is None for r in report.task(2).results)


# -- robustness ----------------------------------------------------------------------------------------
def _lab_container() -> docker.models.containers.Container:
    found = lab_containers(SLUG)  # this run's namespace only: another run's lab of this slug is not ours
    assert len(found) == 1
    return found[0]


def test_stopped_registry_gives_failed_checks_not_a_traceback(lab: LabSession) -> None:
    lab.fast_forward(3)
    _lab_container().stop(timeout=1)
    report = lab.check()
    assert not report.passed
    for task in report.tasks:
        for result in task.results:
            assert result.error and not result.passed and result.hint is None
            assert "registry is unreachable" in result.detail
    assert "Traceback" not in repr(report)
    assert "could not check: The lab's registry is unreachable" in repr(report)
    assert "lab.reset()" in repr(lab)


def test_unreachable_registry_inside_a_predicate_is_a_failed_requirement(lab: LabSession) -> None:
    """A predicate that raises RegistryUnreachable (the port answers nothing) yields its message."""
    ctx = lab.context
    _lab_container().remove(force=True, v=True)
    outcome = lab00.PUSHED.evaluate(ctx)  # the context still names the old port
    assert not outcome.passed and outcome.error
    assert "Nothing answered at" in outcome.detail


def test_closed_lab_cannot_be_attached_and_check_says_so(progress: Progress) -> None:
    session = start(SLUG, fresh=True, progress=progress)
    session.close()
    with pytest.raises(LabNotRunning):
        attach(SLUG)
    report = session.check(1)
    assert all(r.error and "not running" in r.detail for r in report.task(1).results)


def test_reset_is_quick_and_complete(lab: LabSession) -> None:
    lab.fast_forward(3)
    ctx = lab.context
    password = lab.password
    began = time.monotonic()
    lab.reset()
    seconds = time.monotonic() - began
    assert seconds < 5, f"reset took {seconds:.1f} s"
    after = lab.context
    assert after.port == ctx.port and after.running  # same address for the learner
    assert lab.password == password
    assert after.client().catalog() == []
    tags = engine.image_names()
    assert not any(t.startswith(f"{ctx.address}/") for t in tags)
    report = lab.check(1)
    assert not report.requirement(lab00.LOGGED_IN.name).passed  # the saved login is gone
    assert report.requirement(lab00.PUSHED.name).detail.endswith("the registry is empty")


def test_another_process_finds_the_running_lab(lab: LabSession) -> None:
    """What `portside lab check` does: attach by label from a fresh process, read credentials from state."""
    lab.fast_forward(2)
    code = "import portside.labs as L; r = L.check('00-first-push', 1); print(r); raise SystemExit(not r.passed)"
    env = {**os.environ, PROGRESS_ENV: str(lab.progress.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert lab.progress.task(SLUG, 1).passed  # the other process recorded it in the same file
    assert "Task 1. Log in and push your first image: done ✔" in done.stdout
    assert lab.password not in done.stdout + done.stderr


def test_password_file_is_private(lab: LabSession) -> None:
    path = Path(lab.password_file)
    assert path.stat().st_mode & 0o777 == 0o600
    assert lab.password and lab.password not in repr(lab)


def test_report_text_is_deterministic(lab: LabSession) -> None:
    """No port, digest or timing in what nbval compares."""
    lab.fast_forward(2)
    _push(lab.context, OTHER_IMAGE, REPO, "1")
    text = repr(lab.check()) + lab.check()._repr_html_()
    assert str(lab.context.port) not in text and "sha256:" not in text


# -- shared predicates on a lab made for the test -----------------------------------------------------
def _setup_old_release(ctx: LabContext) -> None:
    _push(ctx, lab00.SOURCE, "team/app", "old")
    ctx.state.remember(old_digest=ctx.client().digest("team/app", "old"))


def _test_lab(slug: str, users: tuple[str, ...]) -> Lab:
    old = lambda ctx: str(ctx.facts["old_digest"])  # noqa: E731
    reqs = [
        Requirement("anonymous access is refused", anonymous_refused(), ["h"]),
        Requirement("ci can pull team/app:old", user_can_pull("team/app", "old", user=users[-1] if users else None),
                    ["h"]),
        Requirement("the old manifest is deleted", manifest_deleted("team/app", old), ["h"]),
    ]
    return Lab(slug, "predicates", [Task(1, "t", reqs, lambda ctx: None)], setup=_setup_old_release, users=users)


def test_shared_predicates_both_ways(progress: Progress) -> None:
    test_lab = _test_lab("zz-test-predicates", ("learner", "ci"))
    ctx = provision(test_lab)
    try:
        session = LabSession(test_lab, progress=progress)
        report = session.check(1)
        assert report.requirement("anonymous access is refused").passed
        assert report.requirement("ci can pull team/app:old").passed
        assert report.requirement("the old manifest is deleted").detail == \
            "the old manifest is still in team/app (tagged old)"
        ctx.client().delete_manifest("team/app", ctx.facts["old_digest"])
        report = session.check(1)
        assert report.requirement("the old manifest is deleted").passed
        assert report.requirement("ci can pull team/app:old").detail.startswith("team/app:old not found")
    finally:
        teardown(test_lab.slug, forget=True)


def test_anonymous_refused_fails_on_an_open_registry(progress: Progress) -> None:
    open_lab = Lab("zz-test-open", "open", [Task(1, "t", [Requirement(
        "anonymous access is refused", anonymous_refused(), ["h"])], lambda ctx: None)], users=())
    provision(open_lab)
    try:
        result = LabSession(open_lab, progress=progress).check(1).requirement("anonymous access is refused")
        assert result.detail == "an anonymous request was answered 200, not 401: anyone can read it"
    finally:
        teardown(open_lab.slug, forget=True)


def test_signed_by_key_both_ways(progress: Progress, tmp_path: Path) -> None:
    from portside.tools import cosign
    from portside.tools.install import status

    if not status(["cosign"])[0].ok:
        pytest.skip("cosign is not installed (`portside tools ensure`)")
    keys = cosign.generate_key_pair(tmp_path / "good", "pw")
    other = cosign.generate_key_pair(tmp_path / "other", "pw")
    signed = Lab("zz-test-signed", "signed", [Task(1, "t", [
        Requirement("signed by the good key", signed_by_key("team/app", "old", keys.public), ["h"]),
        Requirement("signed by the other key", signed_by_key("team/app", "old", other.public), ["h"]),
    ], lambda ctx: None)], setup=_setup_old_release)
    ctx = provision(signed)
    try:
        session = LabSession(signed, progress=progress)
        assert not session.check(1).requirement("signed by the good key").passed
        env = {"DOCKER_CONFIG": os.environ["DOCKER_CONFIG"]}
        cosign.sign(ctx.ref("team/app", digest=ctx.facts["old_digest"]), keys.private, "pw", env=env,
                    registry_username=ctx.user, registry_password=ctx.password)
        report = session.check(1)
        assert report.requirement("signed by the good key").passed, repr(report)
        assert report.requirement("signed by the other key").detail == \
            f"no signature on team/app:old (as it is now) verifies with {other.public.name}"
    finally:
        teardown(signed.slug, forget=True)


# -- every lab's student notebook ----------------------------------------------------------------------
@dataclass(frozen=True)
class StudentStart:
    """What a lab's untouched student notebook shows: its ``lab.check(N)`` reports, one per task, in order.

    ``met[N-1]`` are the requirements of task N already met at the start; every other one is a ✘
    with its first hint. ``cleared`` are repositories of the lab registry that no local image
    is named after once the notebook ran (``localhost:PORT/REPO/…``: the lab's close removed them).
    """

    met: tuple[tuple[Requirement, ...], ...] = ()
    cleared: tuple[str, ...] = ()


#: the start state of each lab (a lab not listed meets nothing at the start)
STUDENT_STARTS: dict[str, StudentStart] = {
    lab00.LAB.slug: StudentStart(met=((), (lab00.NO_LATEST,))),
    lab01.LAB.slug: StudentStart(met=((lab01.NO_LEAK,), (lab01.NO_LEAK,)), cleared=("kai",)),
    lab02.LAB.slug: StudentStart(met=((), (lab02.FLOATING_FOLLOW, lab02.NO_LATEST, lab02.OLD_RELEASE_KEPT),
                                      (lab02.FLOATING_FOLLOW, lab02.NO_LATEST))),
    lab03.LAB.slug: StudentStart(met=((lab03.ANONYMOUS_REFUSED, lab03.LEARNER_LOGS_IN), (), (lab03.NO_GARBAGE,))),
    lab04.LAB.slug: StudentStart(met=((lab04.NOTHING_ALLOWED,),)),
}

#: labs that need the containerd image store (lab 06: registry cache export, attestations kept by --load;
#: lab 07: its base pinned by the local image's manifest digest)
NEEDS_CONTAINERD_STORE = {lab06.LAB.slug, lab07.LAB.slug}


def _files(slug: str) -> LabFiles:
    found = [files for files in lab_files() if files.slug == slug]
    assert found, f"lab {slug} has no labs/source/{slug}.ipynb"
    return found[0]


def _secret_lines(source: nbformat.NotebookNode) -> list[str]:
    """Every non-blank line inside a solution or hidden-test region of the source notebook."""
    secret = []
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in (BEGIN_SOLUTION, BEGIN_HIDDEN):
                inside = True
            elif line.strip() in (END_SOLUTION, "### END HIDDEN TESTS"):
                inside = False
            elif inside and line.strip():
                secret.append(line.strip())
    return secret


def _assert_current_and_without_solution(files: LabFiles) -> None:
    """The generated copies match their source; the student copy shows no solution line and no output."""
    stale = [problem for problem in is_stale() if problem.split()[0].endswith(f"/{files.source.name}")]
    assert not stale, f"run `portside labs build`: {stale}"
    secret_lines = _secret_lines(nbformat.read(files.source, as_version=4))
    assert secret_lines, f"{files.source.name} has no solution regions"
    student_text = files.student.read_text(encoding="utf-8")
    leaked = [line for line in secret_lines if json.dumps(line)[1:-1] in student_text]
    assert not leaked, f"{files.student.name} shows solution lines: {leaked}"
    assert CODE_STUB in student_text
    assert all(not c.get("outputs") for c in nbformat.reads(student_text, as_version=4).cells)


def _assert_shows_the_start(lab: Lab, start: StudentStart, checks: list[str]) -> None:
    """One report per task, in order: the task's summary, ✔ for what is met, ✘ and hint 1 for the rest."""
    assert len(checks) == len(lab.tasks), checks
    met = start.met or tuple(() for _ in lab.tasks)
    assert len(met) == len(lab.tasks), f"STUDENT_STARTS[{lab.slug!r}] must list one tuple per task"
    for task, already, check in zip(lab.tasks, met, checks, strict=True):
        summary = f"{len(already)} of {len(task.requirements)} requirements met"
        assert f"Task {task.number}. {task.title}: {summary}" in check, check
        for requirement in task.requirements:
            if requirement in already:
                assert f"  ✔ {requirement.name}\n" in check + "\n", check
            else:
                assert f"  ✘ {requirement.name}\n" in check, check
                assert f"hint 1 of {len(requirement.hints)}: {requirement.hints[0]}" in check, check
        assert "could not check" not in check, check


@pytest.mark.parametrize("slug", catalog.slugs())
def test_student_notebook(slug: str, run_student_notebook: StudentRunner) -> None:
    """The student notebook is current and holds no solution; untouched, it runs top to bottom, no traceback.

    Each of its checks shows the lab's start state (:data:`STUDENT_STARTS`): every requirement
    not met yet is a ✘ with its first hint.
    """
    lab = catalog.get(slug)
    _assert_current_and_without_solution(_files(slug))
    if slug in NEEDS_CONTAINERD_STORE and not engine.uses_containerd_store():
        pytest.skip(f"lab {slug} needs the engine's containerd image store")
    start = STUDENT_STARTS.get(slug, StudentStart())
    try:
        texts, checks = run_student_notebook(slug)
    finally:
        left = [name for name in engine.image_names() for repo in start.cleared
                if name.startswith("localhost:") and f"/{repo}/" in name]
        assert not left, f"the lab left these behind: {left}"
    _assert_shows_the_start(lab, start, checks)
    assert not any("Traceback" in t or "Error" in t for t in texts)
