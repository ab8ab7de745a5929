"""The kit's parts that need no engine: which wheels and files go in, the lock, archive digests, install.sh."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from portside.errors import HashMismatch, SetupError, UsageError
from portside.workshop.kit import bootstrap, course, images, wheels
from portside.workshop.kit.build import _inside_output, _prepare
from portside.workshop.kit.files import put_file
from portside.workshop.kit.manifest import PythonTarget, hash_files, sha256_of
from portside.workshop.kit.seed import seeded_repository

ROOT = Path(__file__).resolve().parents[3]


# ── wheels ─────────────────────────────────────────────────────────────────────

def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(name.encode())


def test_the_kits_lock_says_how_it_is_installed_and_pins_every_file(tmp_path: Path) -> None:
    """``requirements.txt`` (portside.setup.wheelhouse's lock): what install.sh runs, then a pin a project."""
    _touch(tmp_path, "click-8.1.7-py3-none-any.whl", "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl")
    lines = wheels.lock_text(tmp_path).splitlines()
    assert lines[1] == "# pip install --no-index --find-links wheels --require-hashes -r requirements.txt"
    digest = hash_files(tmp_path)["click-8.1.7-py3-none-any.whl"].sha256
    assert len(lines) == 4 and lines[2] == f"click==8.1.7 --hash=sha256:{digest}"
    assert lines[3].startswith("pyyaml==6.0.2 --hash=sha256:")   # canonical name, as pip compares them


def test_an_interpreter_the_wheels_are_not_for_is_refused_before_pip_runs() -> None:
    kit = PythonTarget("cpython", "3.11", "linux-x86_64")
    wheels.check_interpreter(PythonTarget("cpython", "3.11", "linux-x86_64"), kit, where="x")
    with pytest.raises(SetupError, match=r"for CPython 3\.11 on linux-x86_64; the venv /v is CPython 3\.12") as caught:
        wheels.check_interpreter(PythonTarget("cpython", "3.12", "linux-x86_64"), kit, where="the venv /v")
    assert "PYTHON=python3.11" in caught.value.hint


def test_wheels_are_resolved_for_every_patch_release_of_the_python() -> None:
    """Debian 12's Python is 3.11.2; a kit built on 3.11.7 must not carry a wheel that needs 3.11.5: the target
    (what pip's --python-version gets) is X.Y, which pip reads as X.Y.0."""
    target = wheels.current_target(["click>=8.1"])
    assert target.version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert target.requirements == ["click>=8.1"]


def test_a_wheel_folder_that_is_not_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.whl").write_bytes(b"")
    with pytest.raises(UsageError, match=r"--wheels .*file\.whl is not a folder"):
        wheels.gather(["click"], tmp_path / "out", cache=tmp_path / "cache", source=tmp_path / "file.whl",
                      offline=True, say=lambda _: None)
    assert not (tmp_path / "out").exists()


# ── the course's files ─────────────────────────────────────────────────────────

def _checkout(root: Path) -> Path:
    for rel in ("pyproject.toml", "README.md", "notebooks/00-setup.ipynb", "src/portside/engine/build.py",
                "tests/unit/test_x.py", "benchmarks/b.py", "conftest.py", ".venv/bin/python",
                ".portside/tools/bin/cosign", "src/portside/__pycache__/x.pyc", "src/portside.egg-info/PKG-INFO",
                "notebooks/.ipynb_checkpoints/00-setup-checkpoint.ipynb"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel, encoding="utf-8")
    return root


def test_a_course_folder_without_git_keeps_what_a_learner_needs(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "course")
    assert course.course_files(root) == ["README.md", "notebooks/00-setup.ipynb", "pyproject.toml",
                                         "src/portside/engine/build.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_checkout_gives_what_git_tracks_and_new_files_it_does_not_ignore(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "course")
    (root / ".gitignore").write_text(".venv/\n.portside/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n*.log\n",
                                     encoding="utf-8")
    (root / "debug.log").write_text("ignored", encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "pyproject.toml", "README.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    (root / "README.md").unlink()   # tracked, deleted in the working tree: not a file to copy
    assert course.course_files(root) == ["notebooks/00-setup.ipynb", "pyproject.toml",
                                         "src/portside/engine/build.py"]
    assert course.commit(root).endswith(" + uncommitted changes")


def test_a_folder_without_pyproject_is_not_the_course(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"has no pyproject\.toml"):
        course.course_files(tmp_path)


def test_placing_the_course_twice_never_overwrites_a_learners_change(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    for rel in ("course/notebooks/01.ipynb", "course/README.md", "wheels/a-1-py3-none-any.whl"):
        (kit / rel).parent.mkdir(parents=True, exist_ok=True)
        (kit / rel).write_text(rel, encoding="utf-8")
    files = hash_files(kit)
    dest = tmp_path / "learner"
    first = course.place(kit, files, dest)
    assert (first.copied, first.same, first.kept) == (["README.md", "notebooks/01.ipynb"], [], [])
    assert not (dest / "wheels").exists()
    (dest / "notebooks" / "01.ipynb").write_text("my own answers", encoding="utf-8")
    second = course.place(kit, files, dest)
    assert (second.copied, second.same, second.kept) == ([], ["README.md"], ["notebooks/01.ipynb"])
    assert (dest / "notebooks" / "01.ipynb").read_text(encoding="utf-8") == "my own answers"
    assert "kept 1 you changed (notebooks/01.ipynb" in str(second)


# ── image archives ─────────────────────────────────────────────────────────────

def _archive(path: Path, members: dict[str, object]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, content in members.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_of_engine_25_or_later_names_both_digests(tmp_path: Path) -> None:
    manifest, config = "sha256:" + "1" * 64, "2" * 64
    path = _archive(tmp_path / "a.tar", {
        "index.json": {"schemaVersion": 2, "manifests": [{"digest": manifest, "size": 537}]},
        "manifest.json": [{"Config": f"blobs/sha256/{config}", "RepoTags": ["busybox:1.35"], "Layers": []}]})
    assert images.archive_digests(path) == (manifest, "sha256:" + config)


def test_an_archive_of_an_older_engine_has_only_the_config_digest(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.tar", {"manifest.json": [{"Config": "3" * 64 + ".json", "RepoTags": ["x:1"]}]})
    assert images.archive_digests(path) == (None, "sha256:" + "3" * 64)


def test_an_archive_of_two_images_or_none_is_refused(tmp_path: Path) -> None:
    two = _archive(tmp_path / "two.tar", {"manifest.json": [{"Config": "a"}, {"Config": "b"}]})
    with pytest.raises(SetupError, match="not the `docker save` archive of one image"):
        images.archive_digests(two)
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(SetupError, match="is not a readable `docker save` archive"):
        images.archive_digests(tmp_path / "junk.tar")


def test_archive_names_and_seeded_repositories() -> None:
    assert images.archive_name("python:3.11-slim-bookworm") == "images/python_3.11-slim-bookworm.tar"
    assert images.archive_name("localhost:5000/team/app:1") == "images/localhost_5000_team_app_1.tar"
    assert seeded_repository("busybox:1.35") == ("course/busybox", "1.35")
    assert seeded_repository("registry:2") == ("course/registry", "2")
    assert seeded_repository("localhost:5000/team/app") == ("course/team/app", "latest")


# ── install.sh ────────────────────────────────────────────────────────────────

@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_install_sh_is_a_valid_script_for_the_kits_python() -> None:
    text = bootstrap.script(PythonTarget("cpython", "3.11", "linux-x86_64"), "2026-12-01T20:00:00Z")
    assert "want=3.11\n" in text and "sha256sum --quiet --strict -c SHA256SUMS" in text
    assert "--no-index" in text and "--require-hashes" in text
    parsed = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True, check=False)
    assert parsed.returncode == 0, parsed.stderr


# ── putting files in place, the output folder ─────────────────────────────────

def test_a_file_is_put_in_place_only_with_the_right_hash(tmp_path: Path) -> None:
    source = tmp_path / "cosign"
    source.write_bytes(b"#!/bin/sh\necho cosign\n")
    digest = sha256_of(source)
    dest = tmp_path / "state" / "tools" / "bin" / "cosign"
    assert put_file(source, dest, digest, mode=0o755) == "copied"
    assert dest.read_bytes() == source.read_bytes() and dest.stat().st_mode & 0o777 == 0o755
    assert put_file(source, dest, digest, mode=0o755) == "present"
    with pytest.raises(HashMismatch, match="gave sha256:"):
        put_file(source, tmp_path / "other", "0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cosign", "state"]   # no partial copy left behind


def test_the_kit_is_never_written_over_a_folder_that_is_not_one(tmp_path: Path) -> None:
    busy = tmp_path / "notes"
    busy.mkdir()
    (busy / "todo.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="is not empty and not a Portside kit"):
        _prepare(busy)
    assert (busy / "todo.txt").exists()
    work = _prepare(tmp_path / "kit")
    assert work == tmp_path / ".kit.partial" and work.is_dir()
    # a kit built inside the checkout is not packed into the next one
    assert _inside_output(tmp_path / "kit" / "course" / "README.md", tmp_path / "kit")
    assert _inside_output(tmp_path / "kit.tar", tmp_path / "kit")
    assert not _inside_output(tmp_path / "kitchen" / "README.md", tmp_path / "kit")
