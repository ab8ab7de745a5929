"""portside.lessons.leaky: the secret-in-a-layer demo: built on the legacy builder, scanned by the real trivy.

The leaky variant keeps the credential in its COPY layer (trivy's secret scanner finds
it there); the multi-stage variant leaves no trace of it — not in the image, and not in
the engine's build cache; the BuildKit variant fails with a clear message. trivy config
passes all three Dockerfiles. (The made-up credentials and the variants by name:
``tests/unit/lessons/test_leaky_text.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest

from portside import engine
from portside.base.labels import course_labels, session_id
from portside.engine.layers import SavedImage, save
from portside.errors import PortsideError
from portside.lessons import leaky
from portside.tools import trivy

CREDS = leaky.CREDENTIALS_PATH


@pytest.fixture(scope="module")
def builds() -> Iterator[dict[str, leaky.LeakyBuild]]:
    made = {v: leaky.build(v, f"portside-test-leaky/{v}:{session_id()}") for v in ("leaky", "multistage")}  # type: ignore[arg-type]
    try:
        yield made
    finally:
        leaky.remove(*made.values())


def test_builds_run_and_hide_their_credentials(builds: dict[str, leaky.LeakyBuild]) -> None:
    cli = engine.client()
    for build in builds.values():
        output = cli.containers.run(build.image, remove=True, labels=course_labels("test-run"))
        assert output.decode().strip() == "private package fetched"
        assert cli.images.get(build.image).labels["org.portside.kind"] == "leaky-demo"
        assert build.credentials not in repr(build)


def test_multistage_image_holds_no_credential(builds: dict[str, leaky.LeakyBuild], tmp_path: Path) -> None:
    good = builds["multistage"]
    saved = SavedImage(save(good.image, tmp_path / "good.tar"))
    assert saved.find(CREDS) == [] and not saved.exists(CREDS)
    assert saved.exists("app/dependency.txt")
    assert good.removed_intermediates >= 1
    # no step image of this build survives but the final image's own chain: the stage that held the credential
    # is gone from the engine's build cache (its steps are this build's own: another run's builds do not count)
    final_chain = {image_id.removeprefix("sha256:")[:12] for image_id in _history_ids(good.image)}
    cli = engine.client()
    for step in set(good.steps) - final_chain:
        with pytest.raises(docker.errors.ImageNotFound):
            cli.images.get(step)


def _history_ids(name: str) -> set[str]:
    return {entry["Id"] for entry in engine.client().images.get(name).history()}


def test_trivy_finds_the_deleted_credential_only_in_the_leaky_image(builds: dict[str, leaky.LeakyBuild]) -> None:
    bad = trivy.secrets(trivy.scan_secrets(builds["leaky"].image, image_src=("docker",)))
    assert {(s["Target"], s["RuleID"]) for s in bad} == {
        ("/root/.aws/credentials", "aws-access-key-id"), ("/root/.aws/credentials", "aws-secret-access-key")}
    assert trivy.secrets(trivy.scan_secrets(builds["multistage"].image, image_src=("docker",))) == []


def test_trivy_config_passes_the_demo_dockerfiles() -> None:
    report = trivy.config(leaky.app_dir())
    assert {r["Target"] for r in report["Results"]} == set(leaky.VARIANTS.values())
    assert trivy.misconfigurations(report) == []


def test_buildsecret_needs_buildkit() -> None:
    with pytest.raises(PortsideError, match="does not understand `RUN --mount`") as err:
        leaky.build("buildsecret", f"portside-test-leaky/buildsecret:{session_id()}")
    assert "multi-stage" in str(err.value)


def test_remove_leaves_other_images_alone(tmp_path: Path) -> None:
    leaky.remove("busybox:1.35", "portside-test-leaky/none:0")  # not the demo's: untouched, no error
    assert engine.client().images.get("busybox:1.35")
