"""Test-session plumbing: runs that cannot collide, and a suite that fails if the course left anything behind.

At the root of the checkout so that its hooks reach every test item. The tests mirror the
package: ``tests/unit/<layer>/`` needs no engine (``make test-unit``; its own conftest points
``DOCKER_HOST`` nowhere), ``tests/integration/<layer>/`` runs against the real engine,
registries and tools, ``tests/labs/`` proves each lab both ways, and nbval runs the
notebooks in ``notebooks/`` and ``labs/solutions/``.

* **One session, one namespace per process.** Each test process (the run, or each
  pytest-xdist worker: ``RUN`` or ``RUN-gwN``) sets its own ``PORTSIDE_SESSION`` and
  ``PORTSIDE_NAMESPACE``, which its notebook kernels inherit: every course resource it
  makes carries that session label, and it has its own Docker client configuration
  (logins), lab state folders and lab container names. So a developer's run and CI's, or
  two workers of one run, can share an engine. The leak check (in the controller) looks
  only at the run's sessions, plus anonymous volumes that appeared during the run, and
  removes what it finds.
* **Names a lesson teaches are shared by the whole engine.** ``myapp:latest`` or
  ``portside-lesson04/app:1.0`` are what a learner types, so the lessons keep them; the
  test files (or single tests) that use such a name (:data:`SHARED_NAMES`) run on one
  worker of a run and under a machine-wide lock, so two runs take turns on them instead
  of re-pointing each other's tags.
* **A cell that builds with a registry cache runs on a quiet engine.** Whether BuildKit takes a step
  from an imported cache can depend on what else it is building at that moment (:func:`_quiet`): lesson
  06's cache cells run while no other test runs, on any worker of any run on this machine.
* **A fixture makes sure of what it needs.** An image several test files use (the demo
  app, :func:`pyapp_images`) is built by whichever process asks first and found by the
  others: no test waits for another worker, and a file runs alone just as well.
"""

from __future__ import annotations

import fcntl
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

_before: set[str] = set()

#: test files (by name), or single tests (``file::test[id]``), that use a local name shared by the whole engine,
#: and which name
SHARED_NAMES = {
    "01-references-and-login.ipynb": "myapp:latest",  # builds and removes it
    "01-publish.ipynb": "myapp:latest",  # lab 01 builds it for the learner
    "test_lab_01_publish.py": "myapp:latest",
    "test_labs.py::test_student_notebook[01-publish]": "myapp:latest",  # the untouched lab 01 notebook
    "02-tagging-strategy.ipynb": "myapp:1.2.3, myapp:1.2, myapp:1, …",
    "03-private-registry.ipynb": "portside-lesson03/app:…, the volume portside-lesson03-data",
    "04-scanning.ipynb": "portside-lesson04/…",
    "05-signing.ipynb": "portside-lesson05/…",
    "06-distribution.ipynb": "portside-lesson06/…",
}
#: the xdist work unit of those files, and the lock its worker holds while it runs them
SHARED_GROUP = "shared-local-names"
_LOCKS = Path(tempfile.gettempdir()) / "portside-test-locks"
#: the run's id (``test-…``), set by the controller and inherited by its workers
RUN_ENV = "PORTSIDE_TEST_RUN"
_held: list[IO[str]] = []
#: the locks that keep the engine quiet for a notebook cell that builds with a registry cache (see _quiet)
QUIET_GATE, QUIET_ENGINE = "quiet-engine-gate", "quiet-engine"
_quiet_held: list[IO[str]] = []


def _worker(config: pytest.Config) -> str | None:
    """The pytest-xdist worker id (``gw0``…), or None in the controller or a run without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else None


def pytest_configure(config: pytest.Config) -> None:
    """One session label for the run; a namespace and a DOCKER_CONFIG of its own for each test process.

    Set before anything imports portside (``portside.base.labels`` reads the session once), and
    inherited by the notebook kernels nbval starts and by xdist's workers.
    """
    worker = _worker(config)
    if worker is None:
        # Keep the learner's lab progress out of the test run (nbval kernels inherit the environment).
        folder = tempfile.mkdtemp(prefix="portside-test-progress-")
        os.environ["PORTSIDE_PROGRESS"] = os.path.join(folder, "progress.json")
        os.environ[RUN_ENV] = f"test-{uuid.uuid4().hex[:10]}"
    # each process its own session (a lesson's "nothing left behind" cell looks at its own) and namespace
    session = f"{_run_id()}-{worker}" if worker else _run_id()
    os.environ["PORTSIDE_SESSION"] = os.environ["PORTSIDE_NAMESPACE"] = session
    os.environ.pop("DOCKER_CONFIG", None)  # the course points it at this namespace's folder on first use


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove this process's namespace folder and (in the controller) the run's temporary progress folder."""
    import shutil

    from portside.base.paths import run_dir

    namespace = os.environ.get("PORTSIDE_NAMESPACE", "")
    if namespace.startswith("test-"):
        shutil.rmtree(run_dir(), ignore_errors=True)
    if _worker(config) is None:
        folder = os.path.dirname(os.environ.get("PORTSIDE_PROGRESS", ""))
        if os.path.basename(folder).startswith("portside-test-progress-"):
            shutil.rmtree(folder, ignore_errors=True)


def _open_lock(name: str) -> IO[str]:
    _LOCKS.mkdir(mode=0o777, exist_ok=True)
    return open(_LOCKS / f"{name}.lock", "w")  # closed by _release


def _acquire(name: str) -> IO[str]:
    """Take the exclusive lock ``name``, shared by every process on this machine (two runs, or the workers of one)."""
    handle = _open_lock(name)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _release(handle: IO[str]) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def _quiet(item: pytest.Item | None) -> bool:
    """A notebook cell that builds exporting or importing BuildKit's cache through a registry (lesson 06's CI part).

    Its stored output says whether the warm build took its steps from the imported cache, and BuildKit can
    silently leave an imported cache unused for a step that another build is solving at the same moment
    (moby/buildkit#4674, "concurrent requests may skip loading some cache paths", open when checked on
    2026-12-02). On a learner's machine nothing else builds meanwhile; in the suite two other workers do, and
    one CI run saw the warm build rebuild everything. So such a cell runs while no other test runs on this
    machine: it closes a gate that every test passes on its way in, then waits for the running ones to end.
    """
    cell = getattr(item, "cell", None)
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    return isinstance(source, str) and ("cache_from=" in source or "cache_to=" in source)


def _shared_nodeid(nodeid: str) -> bool:
    """The test ``nodeid`` (``path/file.py::test[id]``) uses a shared name: its file, or it alone, is listed."""
    file, _, test = nodeid.partition("::")
    name = Path(file).name
    return name in SHARED_NAMES or f"{name}::{test}" in SHARED_NAMES


def _shared(item: pytest.Item | None) -> bool:
    return item is not None and _shared_nodeid(item.nodeid)


@pytest.hookimpl(optionalhook=True)  # a run without xdist (``-p no:xdist``) has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's ``loadfile``, but with every shared-name file (and single shared-name test) in one work unit.

    A notebook's cells share one kernel, so a file never leaves its worker (``loadfile``).
    The shared-name files and tests go to one worker of each run, one after the other, under the lock
    below; the run's other workers never wait for that lock, so a worker that holds it while
    xdist holds back its last test (a test runs only once the next one is known) is always
    given more work or its shutdown in the end. (Through xdist's scheduler hook:
    ``--dist loadgroup`` cannot group by file on pytest 9, whose node ids it can no longer
    rewrite.)
    """
    from xdist.scheduler import LoadFileScheduling

    class CourseScheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return SHARED_GROUP if _shared_nodeid(nodeid) else nodeid.split("::", 1)[0]

    return CourseScheduling(config, log)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Give each file its own lab progress (the locks are taken in pytest_runtest_protocol).

    Lab progress: a notebook's kernel starts with its file's first test and inherits this
    environment, so lesson 00's progress table shows what lesson 00 did, not what a lab
    solution on another worker (or earlier on this one) recorded.
    """
    progress = Path(os.environ["PORTSIDE_PROGRESS"])
    os.environ["PORTSIDE_PROGRESS"] = str(progress.with_name(f"{Path(str(item.fspath)).stem}.json"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A test's machine-wide locks, always in this order (so two runs never wait on each other in a circle):

    1. the shared-name lock, before a run of shared-name files (held across them, released in teardown);
    2. the quiet gate: a quiet cell closes it (no other test starts from then on); every other test passes it;
    3. the engine lock: a quiet cell takes it exclusive (the tests running elsewhere have ended), every other
       test holds it shared for its whole run, fixtures' set-up and tear-down included.

    A quiet cell keeps both for the next cell if that is quiet too.
    """
    if _shared(item) and not _held:
        _held.append(_acquire(SHARED_GROUP))
    if _quiet(item):
        if not _quiet_held:
            gate = _open_lock(QUIET_GATE)
            fcntl.flock(gate, fcntl.LOCK_EX)
            engine = _open_lock(QUIET_ENGINE)
            fcntl.flock(engine, fcntl.LOCK_EX)
            _quiet_held.extend([engine, gate])
        try:
            yield
        finally:
            if not _quiet(nextitem):
                while _quiet_held:
                    _release(_quiet_held.pop(0))
        return
    with _open_lock(QUIET_GATE) as gate:
        fcntl.flock(gate, fcntl.LOCK_SH)
        fcntl.flock(gate, fcntl.LOCK_UN)
    engine = _open_lock(QUIET_ENGINE)
    fcntl.flock(engine, fcntl.LOCK_SH)
    try:
        yield
    finally:
        _release(engine)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Release the shared-name lock once the next test is not a shared-name one (module fixtures go first)."""
    yield
    if _held and not _shared(nextitem):
        _release(_held.pop())


def _run_id() -> str:
    return os.environ[RUN_ENV]


def _ours(labels: dict[str, str] | None) -> bool:
    """A resource labelled with this run's session or one of its workers' (``RUN`` or ``RUN-gwN``)."""
    from portside.base.labels import SESSION

    session = (labels or {}).get(SESSION, "")
    return session == _run_id() or session.startswith(_run_id() + "-")


def _course_resources() -> dict[str, Any]:
    from portside.base.labels import course_filter
    from portside.engine.daemon import client, list_images, listed_tags
    from portside.setup.images import CATALOGUE

    cli = client()
    found: dict[str, Any] = {}
    course = course_filter()
    # sparse listings (no per-object inspect): another run may be removing its own things meanwhile
    for container in cli.containers.list(all=True, filters=course, sparse=True):
        if _ours(container.attrs.get("Labels")):
            found[f"container {container.attrs['Names'][0].lstrip('/')}"] = container.id
    for network in cli.networks.list(filters=course):
        if _ours(network.attrs.get("Labels")):
            found[f"network {network.name}"] = network.id
    for volume in cli.volumes.list(filters=course):
        if _ours(volume.attrs.get("Labels")):
            found[f"volume {volume.name}"] = volume.name
    # Images the course built during this run (they carry its session label), except the course images
    for image in list_images(filters=course):
        tags = listed_tags(image)
        if _ours(image.get("Labels")) and not set(tags) & set(CATALOGUE):
            labels = image.get("Labels") or {}
            kind = ", ".join(f"{key.removeprefix('org.portside.')}={labels[key]}" for key in sorted(labels)
                             if key.startswith("org.portside.") and key.split(".")[-1] in ("kind", "app", "variant"))
            found[f"image {', '.join(tags) or image['Id'][7:19]}" + (f" ({kind})" if kind else "")] = image["Id"]
    # Anonymous volumes (an image's VOLUME, e.g. registry:2's /var/lib/registry) cannot carry labels:
    # one left dangling means a container was removed without its volume. (Another run's container being
    # removed leaves one dangling for a moment: only those still there a second later count.)
    def anonymous() -> set[str]:
        return {v.name for v in cli.volumes.list(filters={"dangling": True})
                if len(v.name) == 64 and not (v.attrs.get("Labels") or {})}

    dangling = anonymous()
    if dangling - {name.removeprefix("anonymous volume ") for name in _before}:
        time.sleep(1.5)
        dangling &= anonymous()
    for name in dangling:
        found[f"anonymous volume {name}"] = name
    # a workshop room's token service is a process of the harness, not a container: one of this run's
    # namespaces still running means a room was not taken down
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"portside.room.server" in args and any(_run_id().encode() in arg for arg in args):
            found[f"token service process {cmdline.parent.name}"] = int(cmdline.parent.name)
    return found


_engine_seen = False


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note what the course already has on the engine (the unit tier runs with no engine: nothing to note)."""
    global _engine_seen
    if _worker(session.config) is not None:
        return
    from portside.errors import PortsideError

    try:
        _before.update(_course_resources())
        _engine_seen = True
    except PortsideError:
        _engine_seen = False


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any course container, network, volume or built image (or an anonymous volume) it made is left.

    Checked once, by the controller, after every worker has finished.
    """
    from portside.engine.daemon import client

    if _worker(session.config) is not None or not _engine_seen:
        return
    from portside.lessons import sample_app

    for tag in _pyapp_tags().values():  # the run's shared demo app images (see pyapp_images)
        sample_app.remove(tag)
    left = {name: obj for name, obj in _course_resources().items() if name not in _before}
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = "The course left these behind (now removed): " + "; ".join(sorted(left))
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    cli = client()
    for name in sorted(left, key=lambda n: not n.startswith("container")):  # containers first
        key = left[name]
        try:
            if name.startswith("container"):
                cli.api.remove_container(key, force=True, v=True)
            elif name.startswith("network"):
                cli.api.remove_network(key)
            elif name.startswith("image"):
                cli.api.remove_image(key, force=True)
            elif name.startswith("token service"):
                os.kill(key, signal.SIGTERM)
            else:
                cli.api.remove_volume(key, force=True)
        except Exception:  # already gone
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


#: what ``run_student_notebook`` returns: every code cell's text output, and the check reports among them
StudentRun = tuple[list[str], list[str]]
#: the machine's shared caches a fresh course home borrows: the installed tools and the offline wheel cache
LENT_CACHES = ("tools", "wheels")


@pytest.fixture
def course_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh course home (``PORTSIDE_HOME``) for the test and the kernels it starts: no course state in it.

    Only this machine's tools and offline wheel cache (:data:`LENT_CACHES`) are lent to it, as
    links: found before the home is pointed elsewhere, so nothing is installed or downloaded again.
    """
    from portside.base.paths import state_dir

    lent = {folder: state_dir(folder) for folder in LENT_CACHES}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    for folder, real in lent.items():
        os.symlink(real, home / folder)
    monkeypatch.setenv("PORTSIDE_HOME", str(home))
    return home


@pytest.fixture
def run_student_notebook(course_home: Path, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> Callable[[str], StudentRun]:
    """Execute the untouched student notebook of a lab in a fresh kernel, with fresh lab state and progress.

    The kernel gets a fresh course home (:func:`course_home`) and a fresh progress file (hint 1
    everywhere). Returns the text of every code cell's outputs and, among them, the
    ``lab.check()`` reports, so a test can assert what each check shows and that nothing raised.
    """
    import nbformat
    from nbclient import NotebookClient

    from portside.labs.build import lab_files
    from portside.labs.progress import PROGRESS_ENV

    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "progress.json"))

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


def _pyapp_tags() -> dict[str, str]:
    return {variant: f"portside-test/pyapp:{variant}-{_run_id()}" for variant in ("vulnerable", "fixed")}


def _ensure_pyapp(variant: str, tag: str) -> None:
    """Make sure ``tag`` names the demo app built with ``variant``'s pins: built here if no process of the run has.

    Idempotent and race-free without waiting on anyone: the build runs under a name of this
    process's own, and only under the machine-wide lock (:func:`portside.engine.buildcache.exclusive`)
    does the run-wide ``tag`` get it, if the tag is still free. A process that lost the race drops
    its own copy.
    """
    import docker.errors

    from portside import engine
    from portside.base.labels import session_id
    from portside.engine import buildcache
    from portside.engine.transfer import tag as docker_tag
    from portside.lessons import sample_app

    def exists() -> bool:
        try:
            engine.client().images.get(tag)
        except docker.errors.ImageNotFound:
            return False
        return True

    if exists():
        return
    own = f"portside-test/pyapp-build:{variant}-{session_id()}"
    sample_app.build(variant, own)  # type: ignore[arg-type]
    try:
        with buildcache.exclusive():
            if not exists():
                docker_tag(own, tag)
    finally:
        sample_app.remove(own)  # only this name: the image stays if the run-wide tag has it


@pytest.fixture(scope="session")
def pyapp_images() -> dict[str, str]:
    """The demo app with both pin sets, under the run's test tags: ``{"vulnerable": tag, "fixed": tag}``.

    Every process of the run shares them: the first to ask builds them (:func:`_ensure_pyapp`),
    the others find them; the controller removes them when the run ends (:func:`pytest_sessionfinish`).
    """
    tags = _pyapp_tags()
    for variant, tag in tags.items():
        _ensure_pyapp(variant, tag)
    return tags
