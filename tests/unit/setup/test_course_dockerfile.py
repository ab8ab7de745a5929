"""The course image's Dockerfile and wheelhouse, read without an engine: pinned base, stages, user, labels, lock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portside.errors import SetupError
from portside.pipeline.dockerfile import base_images, stage_count
from portside.setup.course_image import dockerfile, pinned_base
from portside.setup.course_image.wheels import lock_text, requirements

ROOT = Path(__file__).resolve().parents[3]
TEXT = (ROOT / "images" / "course" / "Dockerfile").read_text(encoding="utf-8")

#: the OCI annotations the Dockerfile sets (opencontainers/image-spec, annotations.md); the harness adds base.name,
#: base.digest and source, which only the build knows
OCI_LABELS = ("title", "description", "version", "revision", "created", "vendor", "licenses")


def _final_stage() -> str:
    return TEXT[[m.start() for m in re.finditer(r"^FROM ", TEXT, re.MULTILINE)][-1]:]


def test_every_from_is_pinned_by_digest() -> None:
    """The pipeline's own reader of FROM lines (ARG defaults substituted) finds each base pinned by digest."""
    bases = base_images(TEXT)
    assert len(bases) == 2, [str(b) for b in bases]
    assert all(base.pinned for base in bases), [str(b) for b in bases]
    name, digest = pinned_base()
    assert {base.image for base in bases} == {f"{name}@{digest}"}
    assert name == "python:3.11-slim-bookworm"


def test_pinned_base_refuses_a_dockerfile_without_a_pin() -> None:
    with pytest.raises(SetupError, match="pins no base by digest"):
        pinned_base(TEXT.replace("@sha256:", ":latest-"))


def test_two_stages_and_the_venv_stage_feeds_the_final_one() -> None:
    assert stage_count(TEXT) == 2
    assert re.search(r"^FROM \$\{BASE\} AS venv$", TEXT, re.MULTILINE)
    assert "COPY --from=venv /opt/portside/venv /opt/portside/venv" in _final_stage()


def test_the_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = re.findall(r"^USER (\S+)$", _final_stage(), re.MULTILINE)
    assert users, "the final stage sets no USER (it would run as root)"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users  # numeric: Kubernetes' runAsNonRoot can check it


def test_the_oci_labels_are_set_in_the_final_stage() -> None:
    final = _final_stage()
    missing = [key for key in OCI_LABELS if f"org.opencontainers.image.{key}=" not in final]
    assert missing == []
    assert 'org.portside.standin="false"' in final  # the stand-in base's label must not describe this image


def test_no_syntax_directive_and_no_network_in_run_steps() -> None:
    """A `# syntax=` line pulls the frontend's image (offline builds fail); nothing inside fetches from a network."""
    assert not re.search(r"^#\s*syntax\s*=", TEXT, re.MULTILINE | re.IGNORECASE)
    runs = " ".join(re.findall(r"^RUN .*(?:\\\n.*)*", TEXT, re.MULTILINE))
    assert "pip install" in runs and "--no-index" in runs
    assert not re.search(r"apt-get|curl |wget |pip download", runs)


def test_dockerfile_is_the_checkouts() -> None:
    assert dockerfile() == ROOT / "images" / "course" / "Dockerfile"


def test_requirements_are_the_projects_plus_backend_pip_and_what_lessons_run() -> None:
    wanted = requirements(ROOT)
    names = {re.split(r"[<>=\[ ;]", text, maxsplit=1)[0].lower() for text in wanted}
    assert {"docker", "jupyterlab", "python-on-whales", "setuptools", "pip", "zizmor"} <= names
    assert "pytest" not in names and "mypy" not in names  # the course checks itself elsewhere
    assert "pytest" in {re.split(r"[<>=\[ ;]", t, maxsplit=1)[0] for t in requirements(ROOT, extras=("dev",))}


def test_requirements_refuse_an_unknown_extra() -> None:
    with pytest.raises(SetupError, match="no extra nope"):
        requirements(ROOT, extras=("nope",))


def test_lock_pins_each_wheel_by_hash_and_refuses_two_versions(tmp_path: Path) -> None:
    (tmp_path / "demo-1.0-py3-none-any.whl").write_bytes(b"one")
    (tmp_path / "other_pkg-2.1-py3-none-any.whl").write_bytes(b"two")
    lines = lock_text(tmp_path).splitlines()
    assert "demo==1.0 --hash=sha256:7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed" in lines
    assert any(line.startswith("other-pkg==2.1 --hash=sha256:") for line in lines)
    (tmp_path / "demo-1.1-py3-none-any.whl").write_bytes(b"three")
    with pytest.raises(SetupError, match="two versions of demo"):
        lock_text(tmp_path)
