"""lessons.release on the real engine: the team's project builds offline from a pinned base, commits are
reproducible, a developer's pin change is a new commit; Trivy's excerpt; removing a registry's local names."""

from __future__ import annotations

from pathlib import Path

import docker.errors
import pytest

from portside import engine
from portside.base.labels import course_labels, session_id
from portside.engine.build import build
from portside.engine.transfer import tag
from portside.errors import UsageError
from portside.lessons import release
from portside.lessons.sample_images import build_image, remove_images
from portside.lessons.tagging import git
from portside.pipeline import base_images

pytestmark = pytest.mark.slow


def test_a_project_pins_every_from_to_the_course_base_and_commits_once(tmp_path: Path) -> None:
    team = release.project(tmp_path / "team")
    bases = base_images(team.dockerfile.read_text())
    assert len(bases) == 2 and all(b.pinned for b in bases)
    assert {b.image for b in bases} == {f"{release.BASE}@{release.base_digest()}"}
    assert release.MARKER in team.dockerfile.read_text()
    assert git(team.folder, "rev-list", "--count", "HEAD") == "1"
    assert git(team.folder, "rev-parse", "HEAD") == team.commit
    assert (team.app / "requirements.txt").read_text().count("--hash=sha256:") >= 10
    assert (team.folder / ".gitignore").read_text() == "out/\n"


def test_the_same_files_give_the_same_commit_and_an_existing_folder_is_refused(tmp_path: Path) -> None:
    first = release.project(tmp_path / "one")
    second = release.project(tmp_path / "two")
    assert first.commit == second.commit
    with pytest.raises(UsageError, match="exists already"):
        release.project(tmp_path / "one")


def test_use_pins_commits_the_other_pins_and_an_unchanged_set_is_still_a_new_commit(tmp_path: Path) -> None:
    team = release.project(tmp_path / "team")
    again = release.use_pins(team, "fixed", "Refresh the lock file")
    assert again.commit != team.commit
    assert git(team.folder, "status", "--porcelain") == ""
    vulnerable = release.use_pins(again, "vulnerable", "Go back to httpx 0.22")
    requirements = (team.app / "requirements.txt").read_text()
    assert "httpx==0.22.0" in requirements and "h11==0.12.0" in requirements
    assert git(team.folder, "rev-list", "--count", "HEAD") == "3" and vulnerable.commit != again.commit
    with pytest.raises(UsageError, match="not a project"):
        release.use_pins(release.Project(tmp_path, tmp_path / "app", "0" * 40), "fixed", "x")


def test_the_project_builds_offline_and_runs_the_app(tmp_path: Path) -> None:
    team = release.project(tmp_path / "team")
    name = f"portside-test/release-project:{session_id()}"
    build(team.app, tag=name, labels=course_labels("test"), network="none")
    try:
        out = engine.client().containers.run(name, remove=True, network_mode="none").decode()
        assert out.startswith("pyapp: GitPython 3.1.45, httpx 0.28.1")
    finally:
        remove_images([name])


def test_remove_registry_images_removes_only_that_registrys_names() -> None:
    local = f"portside-test/release-remove:{session_id()}"
    build_image(local, size=1024)
    ours = [f"localhost:1/team/app:{n}" for n in ("1.4.0", "sha-abcdef1")]
    try:
        for name in ours:
            tag(local, name)
        assert release.remove_registry_images("localhost:1") == ours
        with pytest.raises(docker.errors.ImageNotFound):
            engine.client().images.get(ours[0])
        assert engine.client().images.get(local)  # the image keeps its own name
    finally:
        remove_images([local, *ours])


TRIVY_TABLE = """\

Python (python-pkg)
===================
Total: 2 (CRITICAL: 2)

┌──────────┬───────┐
│ Library  │  ...  │
└──────────┴───────┘

Suppressed Vulnerabilities (Total: 1)
=====================================
┌─────────┬─────────────────────┐
│ h11     │ GHSA-vqfr-h8mv-ghfj │
└─────────┴─────────────────────┘

"""


def test_trivy_excerpt_keeps_the_totals_and_the_suppressed_table() -> None:
    assert release.trivy_excerpt(TRIVY_TABLE).splitlines() == [
        "Total: 2 (CRITICAL: 2)", "", "Suppressed Vulnerabilities (Total: 1)", "=====================================",
        "┌─────────┬─────────────────────┐", "│ h11     │ GHSA-vqfr-h8mv-ghfj │", "└─────────┴─────────────────────┘"]
    assert release.trivy_excerpt(TRIVY_TABLE.split("\nSuppressed")[0]) == "Total: 2 (CRITICAL: 2)"
    assert release.trivy_excerpt("") == ""
