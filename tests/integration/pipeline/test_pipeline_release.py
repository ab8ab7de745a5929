"""The release pipeline against a real course registry (testcontainers), the real engine and the real tools.

The demo app (its Dockerfile pinned by digest to the course's base) is released end to end — built,
tagged, scanned, pushed, signed and attested, verified, run by digest — and then broken on purpose, one
way at a time, each stopping at the step that should stop it and saying why: a CRITICAL dependency (the
gate; nothing reaches the registry), a FROM by tag (the build), a tag moved after signing (verify; nothing
runs), a deployment named by tag (verify). The exceptions a team records — an OpenVEX statement read by
Trivy and allow-list entries with reason and expiry — let the same vulnerable image through, and the deploy
gate reads them again on the signed SBOM. `portside pipeline run` gives exit 0 and 1 for the same cases.
Everything the pipeline made is removed; the leak check of the test session confirms it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portside import engine
from portside.engine import transfer
from portside.engine.daemon import uses_containerd_store
from portside.lessons import sample_app
from portside.pipeline import Pipeline, VexStatement, deployments, exit_code, write_openvex
from portside.registry.container import Registry
from portside.security.signing import TemporaryKeys
from portside.tools import cosign

COMMIT = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
TODAY = dt.date(2026, 12, 1)

DOCKERFILE = sample_app.MULTI_STAGE_PINNED


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry() as started:
        yield started


@pytest.fixture(scope="module")
def keys() -> Iterator[TemporaryKeys]:
    with TemporaryKeys() as made:
        yield made


def _write_app(folder: Path, variant: sample_app.Variant) -> None:
    """The demo app's build context: pinned multi-stage Dockerfile, app.py, the variant's pins and their wheels."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "wheels").mkdir(parents=True)
    shutil.copyfile(sample_app.app_dir() / "app.py", folder / "app.py")
    requirements = sample_app.requirements_file(variant)
    shutil.copyfile(requirements, folder / "requirements.txt")
    wheels = sample_app.ensure_wheels(requirements)
    wanted = {pin.key for pin in sample_app.pins(requirements)}
    from packaging.utils import parse_wheel_filename

    for wheel in wheels.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if (str(name), str(version)) in wanted:
            shutil.copyfile(wheel, folder / "wheels" / wheel.name)
    base = str(engine.client().images.get(sample_app.BASE).id)
    (folder / "Dockerfile").write_text(DOCKERFILE.format(digest=base))


def _config(folder: Path, keys: TemporaryKeys, *, scan: str = "", deploy: str = "") -> Path:
    (folder / "pw").write_text(keys.password)
    (folder / "pw").chmod(0o600)
    path = folder / "pipeline.toml"
    path.write_text(f"""\
[release]
repository = "team/app"
version = "1.1.0"

[build]
context = "app"

[tag]
commit = "{COMMIT}"

[scan]
{scan}

[sign]
key = "{keys.private}"
public_key = "{keys.public}"
password_file = "pw"

[deploy]
name = "team-app"
{deploy}
""")
    return path


@pytest.fixture
def work(tmp_path: Path, registry: Registry) -> Iterator[Path]:
    yield tmp_path
    for name in ("team/app", "other/app"):  # an empty registry for the next test
        client = registry.client()
        for tag in client.tags(name):
            digest = client.digest(name, tag)
            if digest:
                client.delete_manifest(name, digest)


def _release(work: Path, registry: Registry, keys: TemporaryKeys, variant: sample_app.Variant = "fixed",
             **config: str) -> Pipeline:
    _write_app(work / "app", variant)
    return Pipeline(_config(work, keys, **config), registry=registry, today=TODAY)


def test_released(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    release = _release(work, registry, keys)
    try:
        result = release.run()
        assert result.released and exit_code(result) == 0, str(result)
        assert [s.outcome for s in result.steps] == ["passed"] * 7
        digest = result["push"].data["digest"]
        assert {registry.client().digest("team/app", t) for t in ("1.1.0", "1.1", "1", "sha-1a2b3c4")} == {digest}
        assert result["tag"].detail == "1.1.0, 1.1, 1, sha-1a2b3c4"
        assert result["scan"].detail == "PASSED: team/app:1.1.0 has no finding at or above CRITICAL."
        # what verify accepted is what an outside cosign accepts: the pushed digest, signed and attested
        ref = registry.ref("team/app", digest=digest)
        assert cosign.verify(ref, keys.public)
        (statement,) = cosign.verify_attestation(ref, keys.public, "cyclonedx")
        assert statement["subject"][0]["digest"]["sha256"] == digest.removeprefix("sha256:")
        assert result["verify"].data["digest"] == digest and not result["verify"].data["moved"]
        assert result["deploy"].detail.startswith("ran team/app by digest; it exited 0: pyapp: GitPython 3.1.45")
        assert result["deploy"].data["reference"] == ref
        assert any(c.startswith("cosign sign --key cosign.key ") and c.endswith(ref) for c in result["sign"].commands)
        if uses_containerd_store():
            assert result["sign"].data["bases"] == [{"name": "python:3.11-slim-bookworm",
                                                     "digest": str(engine.client().images.get(sample_app.BASE).id)}]
        assert deployments("team-app") == []  # keep = false: the container is gone after its run
        assert "<svg" in result._repr_html_()
    finally:
        release.cleanup()
    assert not any(t.startswith(f"{registry.address}/team/app") for i in engine.list_images()
                   for t in engine.listed_tags(i))


def test_a_critical_dependency_stops_at_the_gate(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    release = _release(work, registry, keys, "vulnerable")
    try:
        result = release.run()
        assert (result.verdict, exit_code(result)) == ("REFUSED at scan", 1)
        assert result["scan"].summary == "3 CRITICAL"
        assert result["scan"].detail.startswith("BLOCKED: team/app:1.1.0 has 3 finding(s) at or above CRITICAL: ")
        assert [s.outcome for s in result.steps[3:]] == ["not run"] * 4
        assert registry.client().tags("team/app") == []  # nothing reached the registry
        assert release.push().outcome == "refused"  # and a push on its own is refused too
    finally:
        release.cleanup()


def test_exceptions_recorded_the_way_teams_do(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    """Trivy reads an OpenVEX statement for GitPython; the two other flaws are allow-listed with reason and expiry.
    The vulnerable image is released, and the deploy gate (trivy sbom on the signed SBOM) reads both again."""
    write_openvex(work / "app.openvex.json", [VexStatement(
        "GHSA-pr76-5cm5-w9cj", ("pkg:pypi/gitpython@3.1.29",), "not_affected", "vulnerable_code_not_in_execute_path",
        "The app never passes untrusted input to git.")], author="team", doc_id="https://example.invalid/vex/1")
    (work / "allow.toml").write_text("".join(
        f'[[allow]]\nid = "{vid}"\npackage = "{package}"\nreason = "{why}"\nexpires = 2027-01-31\n\n'
        for vid, package, why in [("GHSA-vqfr-h8mv-ghfj", "h11", "only talks to our own server (TICKET-7)"),
                                  ("GHSA-h8pj-cxx2-jfg2", "httpx", "no untrusted URLs (TICKET-8)")]))
    release = _release(work, registry, keys, "vulnerable",
                       scan='scanner = "trivy"\nallowlist = "allow.toml"\nvex = ["app.openvex.json"]')
    try:
        result = release.run()
        assert result.released, str(result)
        scan = result["scan"].detail.splitlines()
        assert scan[0] == "PASSED: trivy: team/app:1.1.0 has no finding at or above CRITICAL that is not allowed " \
                          "(2 allowed)."
        assert ("not affected (VEX, app.openvex.json): GHSA-pr76-5cm5-w9cj in GitPython 3.1.29 — "
                "vulnerable_code_not_in_execute_path") in scan
        assert "✔ scan gate: PASSED: trivy: the signed SBOM of team/app:1.1.0 has no finding at or above CRITICAL " \
               "that is not allowed (2 allowed)." in result["verify"].detail
        # the same image a day after the entries expire is blocked
        expired = Pipeline(work / "pipeline.toml", registry=registry, today=dt.date(2027, 2, 1))
        expired.state.clear()
        for step in ("build", "tag"):
            assert expired.step(step).passed
        blocked = expired.scan()
        assert blocked.outcome == "refused" and "expired on 2027-01-31 and was ignored" in blocked.detail
    finally:
        release.cleanup()


def test_a_from_by_tag_stops_the_build(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    release = _release(work, registry, keys)
    dockerfile = work / "app" / "Dockerfile"
    base = str(engine.client().images.get(sample_app.BASE).id)
    dockerfile.write_text(dockerfile.read_text().replace(f"@{base} AS build", " AS build"))
    result = release.run()
    assert (result.verdict, exit_code(result), result["build"].summary) == ("REFUSED at build", 1, "FROM by tag")
    assert result["build"].detail.startswith("FROM names a base by tag only: python:3.11-slim-bookworm (line 1).")


def test_a_tag_moved_after_signing_stops_at_verify(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    release = _release(work, registry, keys)
    try:
        assert release.run(until="sign").passed
        signed = release.state.get("sign")["digest"]
        other = registry.ref("team/app", "1.1.0")
        transfer.tag("busybox:1.35", other)  # someone pushes another image under the release's tag
        transfer.push(other, progress=False)
        verified = release.verify()
        assert verified.outcome == "refused" and verified.summary == "tag moved"
        assert verified.data["pushed"] == signed != verified.data["digest"]
        assert "✘ signature: no signatures found" in verified.detail
        assert verified.detail.endswith("✘ same release: team/app:1.1.0 no longer names the digest this run pushed "
                                        "and signed — the tag moved after signing")
        assert release.deploy().outcome == "refused" and deployments("team-app") == []
        assert release.result().verdict == "REFUSED at verify"
    finally:
        release.cleanup()


def test_a_deployment_named_by_tag_is_refused(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    release = _release(work, registry, keys, deploy='image = "team/app:1.1.0"\nkeep = true')
    try:
        result = release.run()
        assert result.verdict == "REFUSED at verify"
        assert result["verify"].detail == ("✘ pinned by digest: the reference names a tag, which can move: deploy "
                                           "REPO@sha256:… ([deploy] image = team/app:1.1.0)")
    finally:
        release.cleanup()


def test_the_cli_way(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    """`portside pipeline run` and single steps, exit codes 0 and 1, from another process (state in out/)."""
    _write_app(work / "app", "fixed")
    config = _config(work, keys, deploy="keep = true")
    portside = [sys.executable, "-m", "portside.cli", "pipeline"]
    env = {**os.environ}
    try:
        done = subprocess.run([*portside, "run", "-c", str(config), "--registry", registry.address, "--until", "sign"],
                              capture_output=True, text=True, timeout=600, env=env, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[-1] == "PASSED up to sign (exit 0)"
        for step in ("verify", "deploy"):
            alone = subprocess.run([*portside, step, "-c", str(config), "--registry", registry.address],
                                   capture_output=True, text=True, timeout=600, env=env, check=False)
            assert alone.returncode == 0, alone.stdout + alone.stderr
        (kept,) = deployments("team-app")  # keep = true: the deployment stays, by digest
        assert kept.attrs["Config"]["Image"] == registry.ref("team/app", digest=registry.client().digest(
            "team/app", "1.1.0"))
        _write_app(work / "app", "vulnerable")
        blocked = subprocess.run([*portside, "run", "-c", str(config), "--registry", registry.address],
                                 capture_output=True, text=True, timeout=600, env=env, check=False)
        assert blocked.returncode == 1 and blocked.stdout.splitlines()[-1] == "REFUSED at scan (exit 1)"
    finally:
        subprocess.run([*portside, "cleanup", "-c", str(config), "--registry", registry.address],
                       capture_output=True, text=True, timeout=120, env=env, check=True)
    assert deployments("team-app") == []


def test_multi_platform_where_asked(work: Path, registry: Registry, keys: TemporaryKeys) -> None:
    """`platforms = ["linux/amd64", "linux/arm64"]`: one index with both images is pushed, signed and verified."""
    if not uses_containerd_store():
        pytest.skip("a multi-platform image needs the containerd image store")
    app = work / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\nARG TARGETARCH\nCOPY platform-$TARGETARCH.txt /platform.txt\n")
    for arch in ("amd64", "arm64"):
        (app / f"platform-{arch}.txt").write_text(f"built for linux/{arch}\n")
    config = _config(work, keys)
    config.write_text(config.read_text().replace('context = "app"', 'context = "app"\n'
                                                 'platforms = ["linux/amd64", "linux/arm64"]'))
    release = Pipeline(config, registry=registry, today=TODAY)
    try:
        result = release.run(until="verify")
        assert result.passed, str(result)
        assert result["build"].detail == ("team/app:1.1.0 built from 1 stage for linux/amd64, linux/arm64, with "
                                          "BuildKit provenance")
        index = registry.client().manifest("team/app", result["push"].data["digest"]).json()
        platforms = {f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index["manifests"]}
        assert platforms == {"linux/amd64", "linux/arm64", "unknown/unknown"}
        assert result["verify"].data["digest"] == result["push"].data["digest"]  # the index digest is what counts
    finally:
        release.cleanup()
