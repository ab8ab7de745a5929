"""Lab 06-team-builds, proven both ways against the real engine (BuildKit), registry and builds.

The scripted solution (multi-stage, pinned by digest, cache exported, pulled twice through a pull-through
cache) passes, and so does the work of tasks 1–3 done the CLI way (`docker buildx build --cache-to …` and
`docker push`); task 4, the pull-through cache, is proven in ``test_lab_06_pull_through.py``. Known-bad moves
fail their own requirement with its first hint, and the next hint when checked again: the single-stage build
with the wheels deleted in a later step, a venv with its own pip, a final stage without the venv on PATH, an
app that never exits, a FROM pinned by tag only, no provenance, a pin to another image, the cache pushed to
another ref, a cache of another build, and the image pushed where the cache belongs. The sizes and leftovers
each test expects are read from the registry here, with plain HTTP, not through the lab's own code.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from typing import Any

import pytest
import requests
from labtools import fails_with_hints

from portside import engine
from portside.base.labels import course_labels
from portside.base.proc import run
from portside.engine import provided
from portside.engine.build import build, buildx
from portside.engine.daemon import uses_containerd_store
from portside.engine.transfer import push, tag
from portside.labs import LabSession
from portside.labs import lab06_team_builds as lab06
from portside.labs.model import Requirement

SLUG = lab06.LAB.slug
REPO = lab06.REPO
_ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(autouse=True)
def _containerd_store() -> None:
    """The lab needs the containerd image store (registry cache export, attestations kept by --load)."""
    if not uses_containerd_store():
        pytest.skip("lab 06 needs the engine's containerd image store")


# -- helpers ---------------------------------------------------------------------------------------------------
def _docker(*args: str) -> None:
    """Run the docker CLI as a learner's `!docker …` cell does: the course's CLI, client config and engine."""
    buildx()  # the course's DOCKER_CONFIG (with the buildx plugin) and DOCKER_HOST, as `import portside` sets them
    run([provided.docker_cli(), *args], timeout=600, what=f"docker {args[0]}")


def _get(lab: LabSession, path: str) -> Any:
    response = requests.get(f"http://localhost:{lab.context.port}/v2/{path}", headers={"Accept": _ACCEPT}, timeout=30)
    response.raise_for_status()
    return response


def _image_manifest(lab: LabSession, reference: str = lab06.TAG) -> dict[str, Any]:
    """The platform image of ``team/app:REFERENCE`` (the first entry of its index that is not an attestation)."""
    document = _get(lab, f"{REPO}/manifests/{reference}").json()
    if "manifests" in document:
        image = next(m for m in document["manifests"] if m["platform"]["os"] != "unknown")
        document = _get(lab, f"{REPO}/manifests/{image['digest']}").json()
    return dict(document)


def _added(lab: LabSession) -> list[dict[str, Any]]:
    """The layers of team/app:1.0 after the base image's (the stand-in base has as many layers as its RootFS)."""
    base = engine.client().images.get(lab06.BASE).attrs["RootFS"]["Layers"]
    return list(_image_manifest(lab)["layers"][len(base):])


def _write(lab: LabSession, dockerfile: str) -> None:
    (lab06.app_folder(lab) / "Dockerfile").write_text(dockerfile, encoding="utf-8")


def _build_push(lab: LabSession, *, provenance: bool = True, cache_to: str | None = None) -> str:
    name = lab.context.ref(REPO, lab06.TAG)
    build(lab06.app_folder(lab), tag=name, network="none", provenance=provenance, cache_to=cache_to,
          labels=course_labels("lab-image"))
    push(name, progress=False)
    return name


def _pinned() -> str:
    return lab06.MULTI_STAGE.format(digest=lab06.base_digest())


def _unpinned() -> str:
    return lab06.MULTI_STAGE.replace("@{digest}", "")


def _only(lab: LabSession, task: int, failing: Requirement) -> None:
    """Every requirement of ``task`` but ``failing`` passes."""
    report = lab.check(task)
    for requirement in lab06.LAB.task(task).requirements:
        result = report.requirement(requirement.name)
        assert result.passed == (requirement is not failing), (requirement.name, result.detail)


# -- the start state and the good solution ---------------------------------------------------------------------
def test_start_state(lab: LabSession) -> None:
    """The single-stage Dockerfile, the app, its pins and exactly their wheels; the registry is empty."""
    app = lab06.app_folder(lab)
    assert (app / "Dockerfile").read_text() == lab06.SINGLE_STAGE
    assert {p.name for p in app.iterdir()} == {"Dockerfile", "app.py", "requirements.txt", "wheels"}
    pins = (app / "requirements.txt").read_text().count("==")
    assert pins == len(list((app / "wheels").glob("*.whl"))) >= 10
    assert lab.client().catalog() == []
    report = lab.check()
    assert not any(r.passed for t in report.tasks for r in t.results), repr(report)


def test_solution_passes_every_requirement(lab: LabSession) -> None:
    forwarded = lab.fast_forward(5)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)
    added = _added(lab)
    assert sum(layer["size"] for layer in added) <= lab06.MAX_ADDED
    cache = _get(lab, f"{REPO}/manifests/{lab06.CACHE_TAG}").json()
    assert cache["config"]["mediaType"] == "application/vnd.buildkit.cacheconfig.v0"


def test_the_cli_way_passes(lab: LabSession) -> None:
    """The pinned multi-stage Dockerfile, `docker buildx build --cache-to …` and `docker push`: tasks 1 to 3.

    (Task 4 the CLI way: ``test_lab_06_pull_through.py``.)
    """
    _write(lab, _pinned())
    name = lab.context.ref(REPO, lab06.TAG)
    cache = lab.context.ref(REPO, lab06.CACHE_TAG)
    _docker("buildx", "build", "--network", "none", "-t", name, "--cache-to",
            f"type=registry,ref={cache},mode=max", str(lab06.app_folder(lab)))
    _docker("push", name)
    for task in (1, 2, 3):
        report = lab.check(task)
        assert report.passed, repr(report)


# -- task 1: small -----------------------------------------------------------------------------------------------
def test_deleting_the_wheels_later_still_ships_them(lab: LabSession) -> None:
    """Single stage plus `RUN rm -rf /wheels`: the COPY layer still holds every wheel, and the image is too big."""
    _write(lab, lab06.SINGLE_STAGE.replace("COPY app.py", "RUN rm -rf /wheels /root/.cache\nCOPY app.py"))
    _build_push(lab)
    report = lab.check(1)
    assert report.requirement(lab06.PUSHED.name).passed and report.requirement(lab06.RUNS.name).passed
    wheels: list[str] = []
    for layer in _added(lab):
        blob = _get(lab, f"{REPO}/blobs/{layer['digest']}").content
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
            wheels += [n for n in tar.getnames() if n.endswith(".whl")]
    wheels.sort()
    assert len(wheels) == len(list((lab06.app_folder(lab) / "wheels").glob("*.whl")))
    fails_with_hints(lab, lab06.NO_LEFTOVERS, 1, f"{len(wheels)} build leftover(s) ship in the layers of "
                                                 f"{REPO}:1.0: {wheels[0]}, {wheels[1]} and {len(wheels) - 2} more")
    assert not lab.check(1).requirement(lab06.SMALL.name).passed


def test_a_venv_with_its_own_pip_is_too_big(lab: LabSession) -> None:
    """Multi-stage, but `python3 -m venv` with pip and setuptools in it: no wheel ships, the size is over."""
    _write(lab, _pinned().replace("python3 -m venv --without-pip /opt/venv", "python3 -m venv /opt/venv")
           .replace("pip --python /opt/venv/bin/python install", "/opt/venv/bin/pip install"))
    _build_push(lab)
    _only(lab, 1, lab06.SMALL)
    added = _added(lab)
    size = sum(layer["size"] for layer in added)
    assert size > 2 * lab06.MAX_ADDED
    fails_with_hints(lab, lab06.SMALL, 1, f"{REPO}:1.0 adds {size / 1_000_000:.2f} MB to its base in {len(added)} "
                                          "layer(s), more than 2.50 MB")


def test_a_final_stage_without_the_venv_on_path_does_not_run(lab: LabSession) -> None:
    """Small and clean, but `python` does not find the app's packages: it exits with the import error."""
    _write(lab, _pinned().replace("ENV PATH=/opt/venv/bin:$PATH ", "ENV "))
    _build_push(lab)
    _only(lab, 1, lab06.RUNS)
    fails_with_hints(lab, lab06.RUNS, 1, f"{REPO}:1.0 exits with status 1: ModuleNotFoundError: No module named 'git'")


def test_an_app_that_never_exits(lab: LabSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CMD that keeps running: the check stops it after its timeout (shortened here) instead of hanging."""
    monkeypatch.setattr(lab06, "_RUN_TIMEOUT", 3)
    forever = 'CMD ["python", "-c", "import time; time.sleep(600)"]'
    _write(lab, _pinned().replace('CMD ["python", "/app/app.py"]', forever))
    _build_push(lab)
    _only(lab, 1, lab06.RUNS)
    fails_with_hints(lab, lab06.RUNS, 1, f"{REPO}:1.0 was still running after 3 s: the app prints its report and exits")
    runs = course_labels("lab-run")
    labels = [f"{key}={runs[key]}" for key in ("org.portside.kind", "org.portside.session")]
    assert not engine.client().containers.list(all=True, filters={"label": labels})  # stopped and removed


# -- task 2: pinned ----------------------------------------------------------------------------------------------
def test_a_tag_is_not_a_pin(lab: LabSession) -> None:
    """The multi-stage build FROM python:3.11-slim-bookworm (no digest): task 1 passes, the pin does not."""
    _write(lab, _unpinned())
    _build_push(lab)
    assert lab.check(1).passed
    _only(lab, 2, lab06.PINNED)
    fails_with_hints(lab, lab06.PINNED, 2, "FROM names python:3.11-slim-bookworm by tag only: a tag can move, and "
                                           "the build with it — pin it by digest, python:3.11-slim-bookworm@sha256:…")


def test_no_provenance_means_the_registry_cannot_tell(lab: LabSession) -> None:
    """Pinned, but built with provenance off: the registry holds no record of the FROM lines."""
    _write(lab, _pinned())
    _build_push(lab, provenance=False)
    report = lab.check(2)
    assert not report.requirement(lab06.PINNED.name).passed
    fails_with_hints(lab, lab06.HAS_PROVENANCE, 2, f"{REPO}:1.0 carries no provenance attestation: the registry "
                                                   "cannot tell what it was built from")


def test_a_pin_to_another_image(lab: LabSession) -> None:
    """Every FROM pinned, but one stage pins busybox:1.35: a digest, not the course's base image."""
    busybox = engine.client().images.get("busybox:1.35").id
    other = _pinned().replace("FROM python:3.11-slim-bookworm@", f"FROM busybox:1.35@{busybox} AS notes\n\n"
                              "FROM python:3.11-slim-bookworm@", 1)
    _write(lab, other.replace("COPY app.py /app/app.py", "COPY app.py /app/app.py\nCOPY --from=notes /etc/group "
                                                         "/app/notes.txt"))
    _build_push(lab)
    _only(lab, 2, lab06.PINNED)
    fails_with_hints(lab, lab06.PINNED, 2, "FROM pins busybox:1.35 to a digest that is not the course's "
                                           "python:3.11-slim-bookworm")


# -- task 3: cached ----------------------------------------------------------------------------------------------
def test_the_cache_pushed_to_another_ref(lab: LabSession) -> None:
    """`--cache-to …/team/app:cache`: a cache is in the registry, but not where CI reads it."""
    _write(lab, _pinned())
    _build_push(lab, cache_to=f"type=registry,ref={lab.context.ref(REPO, 'cache')},mode=max")
    report = lab.check(3)
    assert not report.requirement(lab06.CACHE_COVERS.name).passed
    fails_with_hints(lab, lab06.CACHE_PRESENT, 3, f"no build cache at {REPO}:buildcache; there is one at {REPO}:cache")


def test_a_cache_of_another_build(lab: LabSession) -> None:
    """The cache exported by the old single-stage build, the new release pushed without one: it is stale."""
    cache = f"type=registry,ref={lab.context.ref(REPO, lab06.CACHE_TAG)},mode=max"
    build(lab06.app_folder(lab), tag=lab.context.ref("team/old", "1"), network="none", cache_to=cache,
          labels=course_labels("lab-image"))
    _write(lab, _pinned())
    _build_push(lab)
    cached = {layer["digest"] for layer in _get(lab, f"{REPO}/manifests/{lab06.CACHE_TAG}").json()["layers"]}
    added = _added(lab)
    missing = [layer for layer in added if layer["digest"] not in cached]
    assert missing
    _only(lab, 3, lab06.CACHE_COVERS)
    fails_with_hints(lab, lab06.CACHE_COVERS, 3, f"{len(missing)} of the {len(added)} layers {REPO}:1.0 adds to its "
                                                 "base are not in the cache: it was exported by another build")


def test_the_image_pushed_as_the_cache(lab: LabSession) -> None:
    """The release tagged and pushed as team/app:buildcache: an image under the cache's name is no cache."""
    _write(lab, _pinned())
    name = _build_push(lab)
    tag(name, lab.context.ref(REPO, lab06.CACHE_TAG))
    push(lab.context.ref(REPO, lab06.CACHE_TAG), progress=False)
    document = json.loads(_get(lab, f"{REPO}/manifests/{lab06.CACHE_TAG}").content)
    assert "manifests" in document
    fails_with_hints(lab, lab06.CACHE_PRESENT, 3, f"{REPO}:buildcache is an image, not a build cache")
