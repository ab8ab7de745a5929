"""The kit's manifest: written, read back, and every way a kit can differ from it refused with the file named."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from portside.errors import HashMismatch, SetupError
from portside.workshop.kit.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SUMS,
    Built,
    ImageEntry,
    Manifest,
    PythonTarget,
    ToolEntry,
    hash_files,
    read,
    verify,
    write,
)


def _kit(root: Path) -> Path:
    """A small kit: a few files in the real parts, a manifest and SHA256SUMS."""
    kit = root / "kit"
    for rel, text in {"course/README.md": "# the course\n", "course/notebooks/00-setup.ipynb": "{}\n",
                      "wheels/demo-1.0-py3-none-any.whl": "not really a wheel", "images/busybox_1.35.tar": "x" * 300,
                      "tools/debian/cosign/usr/bin/cosign": "#!/bin/sh\n", "trivy-db/db/metadata.json": "{}",
                      "install.sh": "#!/bin/sh\n", "requirements.txt": "demo==1.0\n"}.items():
        (kit / rel).parent.mkdir(parents=True, exist_ok=True)
        (kit / rel).write_text(text, encoding="utf-8")
    manifest = Manifest(
        format=FORMAT, format_version=FORMAT_VERSION,
        built=Built("2026-12-01T20:00:00Z", "portside 0.1.0", "abc + uncommitted changes", "CPython 3.11.7",
                    "linux x86_64", "Docker 28.5.2 (API 1.51), containerd image store"),
        python=PythonTarget("cpython", "3.11", "linux-x86_64", ["demo>=1"]),
        images=[ImageEntry("busybox:1.35", "images/busybox_1.35.tar", "sha256:" + "a" * 64, "containerd",
                           "sha256:" + "b" * 64, "sha256:" + "a" * 64, standin=True)],
        tools=[ToolEntry("cosign", "3.1.1", "tools/debian/cosign/usr/bin/cosign",
                         "tools/debian/cosign/usr/bin/cosign.provenance.json", "c" * 64, reviewed=True)],
        files=hash_files(kit))
    write(kit, manifest)
    return kit


def test_a_written_manifest_reads_back_the_same_and_verifies(tmp_path: Path) -> None:
    kit = _kit(tmp_path)
    said: list[str] = []
    manifest = verify(kit, say=said.append)
    assert manifest == read(kit)
    assert manifest.files["course/README.md"].size == len("# the course\n")
    assert manifest.images[0].digests() == {"sha256:" + "a" * 64, "sha256:" + "b" * 64}
    assert said == ["✔ all 8 files match the manifest (0 MB)"]
    assert MANIFEST not in manifest.files and SUMS not in manifest.files


def test_sizes_are_reported_by_part(tmp_path: Path) -> None:
    sizes = read(_kit(tmp_path)).sizes()
    assert sizes["images"] == 300
    assert sizes["course"] == len("# the course\n") + len("{}\n")
    assert sizes["other"] == len("#!/bin/sh\n") + len("demo==1.0\n")   # install.sh, requirements.txt
    assert sum(sizes.values()) == read(tmp_path / "kit").total_size


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils' sha256sum")
def test_sha256sums_is_what_sha256sum_checks(tmp_path: Path) -> None:
    """install.sh checks the kit with `sha256sum -c SHA256SUMS` before anything of the kit runs."""
    kit = _kit(tmp_path)
    good = subprocess.run(["sha256sum", "--strict", "-c", SUMS], cwd=kit, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    (kit / "course" / "README.md").write_text("# the cursed\n", encoding="utf-8")
    bad = subprocess.run(["sha256sum", "--quiet", "-c", SUMS], cwd=kit, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "course/README.md: FAILED" in bad.stdout


def test_a_changed_file_of_the_same_size_is_refused_by_name(tmp_path: Path) -> None:
    kit = _kit(tmp_path)
    (kit / "course" / "README.md").write_text("# the cursed\n", encoding="utf-8")   # same length
    with pytest.raises(HashMismatch, match=r"does not match its manifest: course/README\.md \(sha256:"):
        verify(kit)


def test_a_file_of_another_size_is_refused_by_name(tmp_path: Path) -> None:
    kit = _kit(tmp_path)
    with open(kit / "images" / "busybox_1.35.tar", "a", encoding="utf-8") as fh:
        fh.write("y")
    with pytest.raises(HashMismatch, match=r"images/busybox_1\.35\.tar \(301 bytes, the manifest says 300\)"):
        verify(kit)


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    kit = _kit(tmp_path)
    (kit / "wheels" / "demo-1.0-py3-none-any.whl").unlink()
    with pytest.raises(SetupError, match=r"incomplete: wheels/demo-1\.0-py3-none-any\.whl is missing"):
        verify(kit)


def test_a_file_the_manifest_does_not_list_is_refused_by_name(tmp_path: Path) -> None:
    """A stray wheel in wheels/ is one `pip --find-links` could pick."""
    kit = _kit(tmp_path)
    (kit / "wheels" / "evil-9.9-py3-none-any.whl").write_text("?", encoding="utf-8")
    with pytest.raises(SetupError, match=r"does not list: wheels/evil-9\.9-py3-none-any\.whl"):
        verify(kit)


def test_a_symlink_in_place_of_a_file_is_refused(tmp_path: Path) -> None:
    kit = _kit(tmp_path)
    readme = kit / "course" / "README.md"
    (tmp_path / "elsewhere.md").write_text(readme.read_text(encoding="utf-8"), encoding="utf-8")
    readme.unlink()
    readme.symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(HashMismatch, match=r"course/README\.md \(now a symbolic link\)"):
        verify(kit)


@pytest.mark.parametrize("version, wording", [(FORMAT_VERSION + 1, "with the course version that built it"),
                                              (0, "Ask the instructor for a kit built with this course version")])
def test_a_kit_of_another_format_version_is_refused(tmp_path: Path, version: int, wording: str) -> None:
    kit = _kit(tmp_path)
    data = json.loads((kit / MANIFEST).read_text(encoding="utf-8"))
    data["format_version"] = version
    (kit / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SetupError, match=f"a kit of format version {version}; this Portside reads format version "
                                         f"{FORMAT_VERSION}") as caught:
        verify(kit)
    assert wording in caught.value.hint


def test_a_folder_without_a_manifest_is_not_a_kit(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"has no manifest\.json, so it is not a Portside kit"):
        verify(tmp_path)


def test_another_json_file_is_not_a_kit_manifest(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(SetupError, match="is not a Portside kit manifest"):
        read(tmp_path)


def test_a_damaged_manifest_says_so(tmp_path: Path) -> None:
    kit = _kit(tmp_path)
    data = json.loads((kit / MANIFEST).read_text(encoding="utf-8"))
    del data["images"]
    (kit / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SetupError, match="is damaged: a field is missing"):
        read(kit)
