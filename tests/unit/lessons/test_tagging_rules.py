"""The tagging strategy as code: release tags, tag kinds, commit tags from real git (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.errors import PortsideError
from portside.lessons.tagging import classify, commit_tag, git, parse_version, plan_release, release_tags, sort_tags


# -- versions and release tags (no Docker) ---------------------------------------------------------------
@pytest.mark.parametrize(("version", "published", "expected"), [
    ("1.2.3", [], ["1.2.3", "1.2", "1"]),
    ("v1.2.3", [], ["1.2.3", "1.2", "1"]),                            # a git-style leading v is dropped
    ("1.3.0-rc.1", ["1.2.3"], ["1.3.0-rc.1"]),                        # a pre-release moves nothing
    ("1.2.4", ["1.2.3", "1.3.0", "1.3", "1"], ["1.2.4", "1.2"]),      # 1 stays on the newer 1.3.0
    ("1.2.4", ["1.2.5"], ["1.2.4"]),                                  # an older patch moves nothing
    ("1.2.3", ["1.2.3", "1.2", "1"], ["1.2.3", "1.2", "1"]),          # re-running a release is stable
    ("2.0.0", ["1.9.9", "2.0.0-rc.1"], ["2.0.0", "2.0", "2"]),        # pre-releases never block a release
    ("0.1.0", [], ["0.1.0", "0.1", "0"]),
])
def test_release_tags(version: str, published: list[str], expected: list[str]) -> None:
    """Exact tag always; floating tags only when no newer stable release of their line is published."""
    assert release_tags(version, published=published) == expected


def test_latest_only_when_asked_and_never_for_prereleases() -> None:
    assert release_tags("1.2.3", latest=True) == ["1.2.3", "1.2", "1", "latest"]
    assert release_tags("1.2.4", published=["2.0.0"], latest=True) == ["1.2.4", "1.2", "1"]
    plan = plan_release("1.3.0-rc.1", latest=True)
    assert plan.tags == ["1.3.0-rc.1"] and plan.prerelease
    assert set(plan.left_alone) == {"1.3", "1", "latest"}


def test_plan_says_why_a_tag_is_left_alone() -> None:
    plan = plan_release("1.2.5", published=["1.2.4", "1.3.0"])
    assert plan.left_alone == {"1": "stays on 1.3.0, which is newer"}
    assert str(plan) == "1.2.5: 1.2.5, 1.2 (left alone: 1 — stays on 1.3.0, which is newer)"


@pytest.mark.parametrize(("text", "message"), [
    ("1.2", "'1.2' is not a semantic version."),
    ("01.2.3", "'01.2.3' is not a semantic version."),
    ("latest", "'latest' is not a semantic version."),
    ("1.2.3+build.7", "'1.2.3+build.7' carries build metadata (+build.7); a registry tag cannot contain '+'."),
])
def test_bad_versions_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(PortsideError) as info:
        parse_version(text)
    assert info.value.message == message and info.value.hint


@pytest.mark.parametrize(("tag_name", "kind"), [
    ("1.2.3", "exact"), ("v2.0.0", "exact"), ("1.3.0-rc.1", "prerelease"), ("1.2", "minor"), ("1", "major"),
    ("v1", "major"), ("sha-abc1234", "commit"), ("sha-" + "a" * 40, "commit"), ("latest", "latest"),
    ("stable", "other"), ("sha-xyz1234", "other"), ("1.2.3.4", "other"), ("01", "other"),
])
def test_classify(tag_name: str, kind: str) -> None:
    assert classify(tag_name) == kind


def test_sort_tags_reads_like_a_release_history() -> None:
    tags = ["latest", "1", "1.2", "1.10.0", "1.2.3", "sha-abc1234", "1.3.0-rc.1", "stable", "1.10"]
    assert sort_tags(tags) == ["1.10.0", "1.2.3", "1.10", "1.2", "1", "1.3.0-rc.1", "sha-abc1234", "latest",
                               "stable"]


# -- commit tags from a real git repository ------------------------------------------------------------------
def _repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "VERSION").write_text("1.0.0\n")
    git(path, "add", "VERSION")
    git(path, "commit", "--quiet", "--message", "first")
    git(path, "tag", "v1.0.0")
    (path / "VERSION").write_text("1.1.0\n")
    git(path, "commit", "--quiet", "--all", "--message", "second")
    return path


def test_commit_tag_is_the_short_commit_id(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "app")
    head = git(repo, "rev-parse", "HEAD")
    assert commit_tag(repo) == f"sha-{head[:7]}"
    assert commit_tag(repo, "v1.0.0") == f"sha-{git(repo, 'rev-parse', 'v1.0.0^{commit}')[:7]}"
    assert commit_tag(repo, "v1.0.0") != commit_tag(repo)
    assert commit_tag(repo, length=12) == f"sha-{head[:12]}"
    assert classify(commit_tag(repo)) == "commit"


def test_commits_are_reproducible(tmp_path: Path) -> None:
    """Fixed author, committer and date: the same files give the same commit id (the lessons rely on it)."""
    assert commit_tag(_repo(tmp_path / "a")) == commit_tag(_repo(tmp_path / "b"))


def test_commit_tag_errors_are_clear(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "app")
    with pytest.raises(PortsideError, match=r"'v9\.9\.9' is not a commit"):
        commit_tag(repo, "v9.9.9")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PortsideError, match="is not a commit of the git repository"):
        commit_tag(tmp_path / "empty")


# -- tags in a real registry -----------------------------------------------------------------------------------
