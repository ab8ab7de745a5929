"""The SBOM cache with real syft on real images built here: hits, misses on new content, bypass, corrupt files.

Every test runs with its own course home (``PORTSIDE_HOME`` in a tmp folder, the machine's
tools linked in: the ``course_home`` fixture), so the course's own cache is never read or
written. syft is never mocked away: a counting wrapper around the real ``syft.sbom`` tells
whether it ran. (Pruning the folder, which needs neither: ``tests/unit/security/test_scan_cache_prune.py``.)
"""

from __future__ import annotations

import io
import json
import secrets
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from portside import engine
from portside.base.labels import course_labels, session_id
from portside.engine import transfer
from portside.registry.container import Registry, docker_login
from portside.security.scan import cache, inventory, scan
from portside.tools import syft

pytestmark = pytest.mark.slow

BASE = "busybox:1.35"


def _build(tag: str, version: str) -> str:
    """``busybox`` + an installed Python package ``portside-probe==VERSION`` (a dist-info folder syft catalogs)."""
    dist = f"usr/lib/python3/site-packages/portside_probe-{version}.dist-info"
    files = {
        "Dockerfile": f"FROM {BASE}\nCOPY usr /usr\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: portside-probe\nVersion: {version}\n",
        f"{dist}/RECORD": "",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    from portside.engine.build import build

    return build(buffer.getvalue(), tag=tag, network="none",
                 labels=course_labels("test-scan-cache", version=version)).id


@pytest.fixture(scope="module")
def probes() -> Iterator[dict[str, str]]:
    """Two different images, ``{"1.0": id, "2.0": id}``, removed (by id: every tag the tests gave them) at the end."""
    ids = {version: _build(f"portside-test/scan-cache:{version}-{session_id()}", version) for version in ("1.0", "2.0")}
    try:
        yield ids
    finally:
        for image_id in ids.values():
            try:
                engine.client().images.remove(image_id, force=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture
def home(course_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private course home with the machine's tools (``course_home``), and the cache switch at its default (on)."""
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    return course_home


@pytest.fixture
def syft_runs(monkeypatch: pytest.MonkeyPatch, home: Path) -> list[str]:
    """The sources the real syft was run on during the test."""
    runs: list[str] = []
    real: Callable[..., dict[str, Any]] = syft.sbom

    def counting(source: str, **options: Any) -> dict[str, Any]:
        runs.append(source)
        return real(source, **options)

    monkeypatch.setattr(syft, "sbom", counting)
    return runs


def _tag(image_id: str, name: str) -> str:
    engine.client().images.get(image_id).tag(name)
    return name


def _entries() -> list[Path]:
    return sorted(cache.cache_dir().glob("*.json"))


def _probe_versions(found: Any) -> set[str]:
    return {p.version for p in found.packages if p.name == "portside-probe"}


def test_second_inventory_is_a_cache_hit(probes: dict[str, str], syft_runs: list[str]) -> None:
    """syft runs once; the second inventory returns the very same document, packages and findings, in milliseconds."""
    name = _tag(probes["1.0"], f"portside-test/scan-cache:hit-{session_id()}")
    began = time.monotonic()
    first = inventory(name)
    cold = time.monotonic() - began
    assert syft_runs == [f"docker:{name}"]
    assert len(_entries()) == 1
    assert _probe_versions(first) == {"1.0"}
    began = time.monotonic()
    second = inventory(name)
    warm = time.monotonic() - began
    assert syft_runs == [f"docker:{name}"]  # not run again
    assert second.sbom == first.sbom and second.packages == first.packages
    assert second.sbom is not first.sbom  # a fresh copy: a caller changing it cannot change the cache
    assert warm < 0.5 and warm < cold / 3, (cold, warm)
    assert scan(name).summary() == scan(name, cache=False).summary()
    entry = json.loads(_entries()[0].read_text())
    assert entry["key"]["digest"] == probes["1.0"] and entry["key"]["source"] == f"docker:{name}"
    assert entry["key"]["syft"].startswith(syft.version())


def test_retagged_to_another_image_misses(probes: dict[str, str], syft_runs: list[str]) -> None:
    """The same name moved to different content is a new digest: syft runs again and the new package shows."""
    name = _tag(probes["1.0"], f"portside-test/scan-cache:moving-{session_id()}")
    assert _probe_versions(inventory(name)) == {"1.0"}
    _tag(probes["2.0"], name)
    assert _probe_versions(inventory(name)) == {"2.0"}
    assert len(syft_runs) == 2 and len(_entries()) == 2
    _tag(probes["1.0"], name)  # and back: the first document is still there
    assert _probe_versions(inventory(name)) == {"1.0"}
    assert len(syft_runs) == 2


def test_bypass_with_the_argument_and_the_variable(probes: dict[str, str], syft_runs: list[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """cache=False and PORTSIDE_SBOM_CACHE=0 run syft every time and store nothing; cache=True beats the variable."""
    name = _tag(probes["1.0"], f"portside-test/scan-cache:bypass-{session_id()}")
    inventory(name, cache=False)
    assert len(syft_runs) == 1 and _entries() == []
    monkeypatch.setenv(cache.CACHE_ENV, "0")
    inventory(name)
    assert len(syft_runs) == 2 and _entries() == []
    inventory(name, cache=True)
    inventory(name, cache=True)
    assert len(syft_runs) == 3 and len(_entries()) == 1
    inventory(name)  # the variable still says off: no read either
    assert len(syft_runs) == 4


def test_a_corrupt_entry_is_ignored_and_rewritten(probes: dict[str, str], syft_runs: list[str]) -> None:
    """A truncated file, or one whose document no longer matches its checksum, is a miss; syft's answer replaces it."""
    name = _tag(probes["1.0"], f"portside-test/scan-cache:corrupt-{session_id()}")
    original = inventory(name)
    [entry] = _entries()
    text = entry.read_text()
    entry.write_text(text[: len(text) // 2])  # cut off mid-write
    assert inventory(name).packages == original.packages
    assert len(syft_runs) == 2
    assert json.loads(entry.read_text())["sbom"]["components"]  # rewritten whole
    tampered = json.loads(entry.read_text())
    tampered["sbom"]["components"] = tampered["sbom"]["components"][:1]
    entry.write_text(json.dumps(tampered))
    assert inventory(name).packages == original.packages
    assert len(syft_runs) == 3
    inventory(name)
    assert len(syft_runs) == 3  # and the rewritten file is used


def test_registry_scan_by_tag_resolves_the_digest(probes: dict[str, str], syft_runs: list[str]) -> None:
    """From a password-protected registry: a HEAD finds the tag's digest; a hit until the tag is pushed over."""
    password = secrets.token_urlsafe(16)
    with Registry(users={"ada": password}) as registry:
        docker_login(registry.address, "ada", password)
        env = registry.tool_env()
        ref = registry.ref("test/probe", "release")
        transfer.tag(probes["1.0"], ref)
        transfer.push(ref, progress=False)
        first = inventory(ref, from_registry=True, env=env)
        again = inventory(ref, from_registry=True, env=env)
        assert len(syft_runs) == 1 and again.sbom == first.sbom
        assert _probe_versions(again) == {"1.0"}
        digest = registry.client().digest("test/probe", "release")
        by_digest = registry.ref("test/probe", digest=digest)
        inventory(by_digest, from_registry=True, env=env)
        inventory(by_digest, from_registry=True, env=env)
        assert len(syft_runs) == 2  # another source string: its own entry, then a hit
        transfer.tag(probes["2.0"], ref)
        transfer.push(ref, progress=False)
        assert _probe_versions(inventory(ref, from_registry=True, env=env)) == {"2.0"}
        assert len(syft_runs) == 3
