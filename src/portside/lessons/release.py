"""Lesson 07's helpers: the team's project that the release pipeline builds, and the short parts of Trivy's output.

The pipeline (:mod:`portside.pipeline`) releases a *project*: a folder with a ``pipeline.toml``, an
``app/`` build context and a git repository whose commit names the ``sha-`` tag. :func:`project`
makes one for the demo app (``pyapp``, lesson 04): a two-stage Dockerfile whose every ``FROM`` is
pinned by digest to the course's ``python:3.11-slim-bookworm`` (lesson 06), the app, its
hash-pinned requirements and their wheels, committed once. :func:`use_pins` commits other pins, as a
developer's change would (the vulnerable ones, to break the gate on purpose)::

    team = release.project(work / "team-app")        # Project(folder=…, app=…/app, commit='4f1c2ab…')
    (team.folder / "pipeline.toml").write_text(…)    # the lesson writes its configuration itself
    release.use_pins(team, "vulnerable", "Pin httpx 0.22 again")

Commits are made with the fixed author and date of :func:`portside.lessons.tagging.git`, so the same
files give the same commit id. The base
image's digest is this engine's, so a commit id differs from machine to machine.

:func:`trivy_excerpt` keeps, of ``trivy image``'s or ``trivy sbom``'s table output, the lines a
notebook shows: each ``Total:`` line, and the table of findings an OpenVEX statement suppressed
(``--show-suppressed``).
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from portside import engine
from portside.engine.daemon import list_images, uses_containerd_store
from portside.errors import SetupError, UsageError
from portside.lessons import sample_app
from portside.lessons.distribution import app_context
from portside.lessons.tagging import git

__all__ = ["BASE", "DOCKERFILE", "MARKER", "Project", "base_digest", "project", "remove_registry_images",
           "trivy_excerpt", "use_pins"]

#: the base image of the team's app (a course image)
BASE = "python:3.11-slim-bookworm"
#: marks the build step of the team's Dockerfile, so that the lesson can prune just that step's build cache
#: (``docker buildx prune --filter description~=MARKER``)
MARKER = "portside-lesson-07"
#: the team's Dockerfile; ``{base}`` becomes ``python:3.11-slim-bookworm@sha256:…``
DOCKERFILE = """\
# team/app: two stages; every FROM pinned by digest (the tag is kept for the humans and the bots)
FROM {base} AS build
COPY wheels/ /wheels/
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv --without-pip /opt/venv \\
 && python3 -m pip --python /opt/venv/bin/python install --no-index --find-links /wheels \\
        --no-cache-dir --require-hashes -r /tmp/requirements.txt  # {marker}

FROM {base}
COPY --from=build /opt/venv /opt/venv
COPY app.py /app/app.py
ENV PATH=/opt/venv/bin:$PATH GIT_PYTHON_REFRESH=quiet
USER 10001
CMD ["python", "/app/app.py"]
"""
@dataclass(frozen=True)
class Project:
    """A team's project on disk: its folder (``pipeline.toml`` goes here), the build context, the latest commit."""

    folder: Path
    app: Path
    commit: str

    @property
    def dockerfile(self) -> Path:
        return self.app / "Dockerfile"


def base_digest() -> str:
    """The digest of the course's ``python:3.11-slim-bookworm`` on this engine, which ``FROM …@`` names."""
    if not uses_containerd_store():
        raise SetupError("The release project pins its base by manifest digest, which this engine's classic image "
                         "store does not keep for a local image.",
                         hint="Run the lesson on the course's own engine (`make setup` as root), or on Docker "
                              "Engine 29+ / Docker Desktop, where the containerd image store is the default.")
    try:
        return str(engine.client().images.get(BASE).id)
    except docker.errors.ImageNotFound:
        raise SetupError(f"{BASE} is not on this engine.", hint="Run `portside images ensure`.") from None


def _write_context(app: Path, variant: sample_app.Variant, digest: str) -> None:
    """Unpack the demo app's context (Dockerfile, app.py, hash-pinned requirements, wheels) into ``app``."""
    if app.exists():
        shutil.rmtree(app)
    app.mkdir(parents=True)
    dockerfile = DOCKERFILE.format(base=f"{BASE}@{digest}", marker=MARKER)
    with tarfile.open(fileobj=io.BytesIO(app_context(dockerfile, variant))) as tar:
        tar.extractall(app, filter="data")


def _commit(folder: Path, message: str) -> str:
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(folder, "rev-parse", "HEAD").strip()


def project(folder: str | Path, *, variant: sample_app.Variant = "fixed",
            message: str = "team/app: the first release") -> Project:
    """A new project in ``folder`` (which must not exist yet): ``app/`` with the ``variant``'s pins, committed."""
    root = Path(folder)
    if root.exists():
        raise UsageError(f"{root} exists already.", hint="Give project() a new folder; it makes one git repository.")
    root.mkdir(parents=True)
    _write_context(root / "app", variant, base_digest())
    (root / ".gitignore").write_text("out/\n", encoding="utf-8")  # the pipeline's reports and state
    git(root, "init", "--quiet", "--initial-branch=main")
    return Project(root, root / "app", _commit(root, message))


def use_pins(team: Project, variant: sample_app.Variant, message: str) -> Project:
    """Commit the ``variant``'s pins (requirements and wheels) into ``team``'s app, as a developer would."""
    if not (team.folder / ".git").is_dir():
        raise UsageError(f"{team.folder} is not a project made by release.project().")
    _write_context(team.app, variant, base_digest())
    return Project(team.folder, team.app, _commit(team.folder, message))


_TOTAL = re.compile(r"^Total: \d+")


def trivy_excerpt(output: str) -> str:
    """Of a Trivy table report, each ``Total:`` line and the *Suppressed Vulnerabilities* table (if any)."""
    lines = output.splitlines()
    kept = [line for line in lines if _TOTAL.match(line)]
    start = next((i for i, line in enumerate(lines) if line.startswith("Suppressed Vulnerabilities")), None)
    if start is not None:
        table: list[str] = []
        for line in lines[start:]:
            if table and not line.strip():
                break
            table.append(line)
        kept += ["", *table]
    return "\n".join(kept)


def remove_registry_images(address: str) -> list[str]:
    """Remove every local name of an image in the registry at ``address`` (``localhost:PORT``); returns them.

    Tags (``localhost:PORT/team/app:1.4.0``) and the digest names a pull by digest leaves
    (``localhost:PORT/team/app@sha256:…``): a lesson's registry has a port of its own, so these are its images
    only. An image goes when its last name does; one still used by a container is left.
    """
    prefix = address.rstrip("/") + "/"
    names = sorted({name for image in list_images()
                    for name in (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
                    if name.startswith(prefix)})
    removed = []
    for name in names:
        try:
            engine.client().images.remove(name, noprune=False)
        except docker.errors.APIError:  # gone with an earlier name, or used by a container
            continue
        removed.append(name)
    return removed
