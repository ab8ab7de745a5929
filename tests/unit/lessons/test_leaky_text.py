"""portside.lessons.leaky without Docker: the made-up credentials and the demo's Dockerfiles by name.

The builds and trivy's findings on them are in ``tests/integration/lessons/test_leaky.py``.
"""

from __future__ import annotations

import pytest

from portside.errors import UsageError
from portside.lessons import leaky


def test_fake_credentials_have_the_shape_scanners_know() -> None:
    one, two = leaky.fake_credentials(), leaky.fake_credentials()
    assert one != two
    lines = one.splitlines()
    assert lines[0] == "[default]" and lines[1].startswith("aws_access_key_id = AKIA") and len(lines[1]) == 40
    assert len(lines[2].split(" = ")[1]) == 40


def test_secret_key_is_the_secret_access_key_line() -> None:
    credentials = leaky.fake_credentials()
    assert leaky.secret_key(credentials) == credentials.splitlines()[2].split(" = ")[1]
    with pytest.raises(UsageError, match="no aws_secret_access_key line"):
        leaky.secret_key("[default]\naws_access_key_id = AKIA0000000000000000\n")


def test_every_variant_has_its_dockerfile() -> None:
    """Each variant's Dockerfile hands the credential over its own way, and none pulls a frontend image."""
    assert set(leaky.VARIANTS) == {"leaky", "arg", "env", "multistage", "buildsecret"}
    texts = {variant: leaky.dockerfile(variant) for variant in leaky.VARIANTS}
    assert all("# syntax=" not in text for text in texts.values())  # a syntax line makes BuildKit pull an image
    assert f"--mount=type=secret,id={leaky.SECRET_ID}," in texts["buildsecret"]
    assert f"ARG {leaky.SECRET_ARG}" in texts["arg"] and f"ENV {leaky.SECRET_ARG}=" in texts["env"]
    assert "COPY credentials" in texts["leaky"] and "COPY credentials" in texts["multistage"]


def test_unknown_variant() -> None:
    with pytest.raises(UsageError, match="no leaky-demo variant"):
        leaky.dockerfile("nope")  # type: ignore[arg-type]
