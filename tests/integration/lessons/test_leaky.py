"""portside.lessons.leaky: the secret-in-a-layer demo, built with BuildKit and scanned by the real trivy.

Each wrong way leaves the credential where anyone who can pull the image can read it: the
COPY layer (``leaky``), the image history (``arg``), the image configuration (``env``); trivy's
secret scanner finds it there. The multi-stage and build-secret images hold no trace of it.
trivy config flags the ARG and ENV Dockerfiles, and cannot see the copied file. (The made-up
credentials and the variants by name: ``tests/unit/lessons/test_leaky_text.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portside import engine
from portside.base.labels import course_labels, session_id
from portside.engine.layers import SavedImage, save
from portside.lessons import leaky
from portside.tools import trivy

CREDS = leaky.CREDENTIALS_PATH


@pytest.fixture(scope="module")
def builds() -> Iterator[dict[str, leaky.LeakyBuild]]:
    made = {v: leaky.build(v, f"portside-test-leaky/{v}:{session_id()}") for v in leaky.VARIANTS}
    try:
        yield made
    finally:
        leaky.remove(*made.values())


def _history(build: leaky.LeakyBuild) -> list[str]:
    return [str(entry.get("CreatedBy") or "") for entry in engine.client().images.get(build.image).history()]


def _env(build: leaky.LeakyBuild) -> list[str]:
    return list(engine.client().images.get(build.image).attrs["Config"].get("Env") or [])


def test_builds_run_and_hide_their_credentials(builds: dict[str, leaky.LeakyBuild]) -> None:
    cli = engine.client()
    for build in builds.values():
        output = cli.containers.run(build.image, remove=True, labels=course_labels("test-run"))
        assert output.decode().strip() == "private package fetched", build.variant
        assert cli.images.get(build.image).labels["org.portside.kind"] == "leaky-demo"
        assert build.credentials not in repr(build) and build.secret_key not in repr(build)


def test_the_copy_layer_keeps_the_deleted_file(builds: dict[str, leaky.LeakyBuild], tmp_path: Path) -> None:
    bad = builds["leaky"]
    saved = SavedImage(save(bad.image, tmp_path / "bad.tar"))
    assert not saved.exists(CREDS)
    [found] = saved.find(CREDS)
    assert found.layer.instruction == "COPY credentials /root/.aws/credentials"
    assert found.data.decode() == bad.credentials


def test_a_build_argument_stays_in_the_history(builds: dict[str, leaky.LeakyBuild]) -> None:
    arg = builds["arg"]
    recorded = [line for line in _history(arg) if arg.secret_key in line]
    assert any(line.startswith(f"RUN |1 {leaky.SECRET_ARG}={arg.secret_key} ") for line in recorded), recorded
    assert not any(arg.secret_key in variable for variable in _env(arg))
    assert any(arg.secret_key in line for line in arg.log)  # BuildKit's log shows the value too
    assert all(arg.secret_key not in text for _, text, _ in arg.steps())  # steps() masks it


def test_env_stays_in_the_image_configuration(builds: dict[str, leaky.LeakyBuild]) -> None:
    env = builds["env"]
    assert f"{leaky.SECRET_ARG}={env.secret_key}" in _env(env)
    output = engine.client().containers.run(env.image, ["env"], remove=True, labels=course_labels("test-run"))
    assert f"{leaky.SECRET_ARG}={env.secret_key}" in output.decode().splitlines()  # every container gets it


@pytest.mark.parametrize("variant", ["multistage", "buildsecret"])
def test_the_right_ways_leave_no_trace_in_the_image(builds: dict[str, leaky.LeakyBuild], variant: str,
                                                    tmp_path: Path) -> None:
    good = builds[variant]
    saved = SavedImage(save(good.image, tmp_path / "good.tar"))
    assert saved.find(CREDS) == [] and not saved.exists(CREDS)
    assert saved.exists("app/dependency.txt")
    for text in (*_history(good), *_env(good)):
        assert good.secret_key not in text and "aws_access_key_id" not in text


def test_a_build_secret_is_not_even_in_the_build_log(builds: dict[str, leaky.LeakyBuild]) -> None:
    secret = builds["buildsecret"]
    assert not any(secret.secret_key in line for line in secret.log)
    assert any("--mount=type=secret,id=aws" in text for _, text, _ in secret.steps())


def test_trivy_finds_the_secret_in_the_wrong_ways_only(builds: dict[str, leaky.LeakyBuild]) -> None:
    def found(variant: str) -> set[tuple[str, str]]:
        report = trivy.scan_secrets(builds[variant].image, image_src=("docker",))
        return {(str(s["Target"]), str(s["RuleID"])) for s in trivy.secrets(report)}

    assert found("leaky") == {("/root/.aws/credentials", "aws-access-key-id"),
                              ("/root/.aws/credentials", "aws-secret-access-key")}
    for variant in ("arg", "env"):  # found in the image configuration (its history, its environment)
        assert found(variant) == {(builds[variant].image, "aws-secret-access-key")}, variant
    assert found("multistage") == set() and found("buildsecret") == set()


def test_trivy_config_flags_arg_and_env_but_cannot_see_a_copied_file() -> None:
    report = trivy.config(leaky.app_dir())
    assert {r["Target"] for r in report["Results"]} == set(leaky.VARIANTS.values())
    failed = sorted((m["Target"], m["ID"]) for m in trivy.misconfigurations(report))
    assert failed == [("Dockerfile.arg", "DS-0031"), ("Dockerfile.env", "DS-0031"), ("Dockerfile.env", "DS-0031")]


def test_remove_leaves_other_images_alone() -> None:
    leaky.remove("busybox:1.35", "portside-test-leaky/none:0")  # not the demo's: untouched, no error
    assert engine.client().images.get("busybox:1.35")
