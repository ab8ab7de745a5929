"""The course image's Dockerfile and wheelhouse, read without an engine: pinned base, stages, user, labels, lock."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from portside.errors import SetupError
from portside.pipeline.dockerfile import base_images, stage_count
from portside.setup.course_image import dockerfile, pinned_base, wheels

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


def test_the_wheelhouse_refuses_a_python_other_than_the_bases(tmp_path: Path) -> None:
    """pip picks wheels for the running interpreter: one of another X.Y release would give the image wrong ones."""
    with pytest.raises(SetupError, match=r"wheels are for cpython 3\.99 linux-x86_64 \(its base image's Python\)"):
        wheels.wheelhouse(ROOT, tmp_path / "wheels", python="3.99.1", offline=True, say=lambda _: None)
    assert not (tmp_path / "wheels").exists()   # refused before anything was gathered


def test_the_wheelhouse_is_gathered_offline_from_the_cache_and_locked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_wheel: Callable[..., Path]) -> None:
    """The context's ``wheels/``: the checkout's packages from the state folder's cache, and the lock the build
    installs with (two comment lines, then one pin a line: PROVENANCE.json records those lines)."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "state"))
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text('[project]\ndependencies = ["demo>=1"]\n'
                                             '[build-system]\nrequires = ["backend"]\n', encoding="utf-8")
    for name in ("demo", "backend", "pip"):
        make_wheel(tmp_path / "state" / "wheels" / "course", name, "1.0")
    python = "{}.{}.{}".format(*sys.version_info[:3])
    lock = wheels.wheelhouse(checkout, tmp_path / "wheels", python=python, offline=True, say=lambda _: None)
    assert lock == tmp_path / "wheels" / wheels.LOCK
    lines = lock.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "# pip install --no-index --find-links . --require-hashes -r requirements.lock"
    assert [line.split(" --hash=sha256:")[0] for line in lines[2:]] == ["backend==1.0", "demo==1.0", "pip==1.0"]
    (checkout / "pyproject.toml").write_text('[project]\ndependencies = ["demo>=2"]\n'
                                             '[build-system]\nrequires = []\n', encoding="utf-8")
    with pytest.raises(SetupError, match=r"missing demo>=2 \(offline: nothing was downloaded\)") as caught:
        wheels.wheelhouse(checkout, tmp_path / "wheels", python=python, offline=True, say=lambda _: None)
    assert caught.value.hint.startswith("Run the build once online")
