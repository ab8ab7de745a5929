"""The deploy policy: pinned references pass, latest and floating tags are rejected, each with its reason."""

from __future__ import annotations

import pytest

from portside.errors import UsageError
from portside.lessons.policy import check_deploy, check_reference, enforce

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("reference", "allowed", "reason_starts"), [
    ("shop/web:1.4.2", True, "exact version tag"),
    ("localhost:5000/shop/web:2.0.0-rc.1", True, "exact pre-release tag"),
    ("shop/web:sha-1a2b3c4", True, "commit tag"),
    (f"shop/web@{DIGEST}", True, "digest: names exactly one manifest"),
    (f"shop/web:latest@{DIGEST}", True, "digest: names exactly one manifest, forever (the tag beside it"),
    ("shop/web:latest", False, "latest moves"),
    ("shop/web", False, "no tag means :latest"),
    ("shop/web:1.4", False, "floating tag: moves to every new patch"),
    ("shop/web:1", False, "floating tag: moves to every new minor"),
    ("shop/web:stable", False, "a free-form tag"),
    ("Shop/Web:1.4.2", False, "not a valid reference: invalid reference format"),
])
def test_each_kind_of_reference(reference: str, allowed: bool, reason_starts: str) -> None:
    verdict = check_reference(reference)
    assert (verdict.reference, verdict.allowed) == (reference, allowed)
    assert verdict.reason.startswith(reason_starts), verdict.reason


def test_require_digest_accepts_only_digests() -> None:
    report = check_deploy(["shop/web:1.4.2", f"shop/web@{DIGEST}", "shop/web:sha-1a2b3c4"], require_digest=True)
    assert [v.allowed for v in report.verdicts] == [False, True, False]
    assert report.rejected[0].reason.startswith("this policy wants a digest")


def test_report_text() -> None:
    report = check_deploy(["shop/web:1.4.2", "shop/api:latest"])
    assert not report.passed and [v.reference for v in report.rejected] == ["shop/api:latest"]
    assert str(report).splitlines() == [
        "1 of 2 references allowed",
        "ok      shop/web:1.4.2",
        "        exact version tag: pinned by convention (the registry would accept an overwrite)",
        "REJECT  shop/api:latest",
        "        latest moves with every push that forgets a tag",
    ]
    assert repr(report) == str(report)


def test_enforce_raises_with_every_rejected_reference() -> None:
    assert enforce(["shop/web:1.4.2", f"shop/db@{DIGEST}"]).passed
    with pytest.raises(UsageError) as info:
        enforce(["shop/web:1.4.2", "shop/api", "shop/db:2"])
    message = info.value.message
    assert message.startswith("Deploy refused: 2 image references are not pinned.")
    assert "  shop/api: no tag means :latest" in message and "  shop/db:2: floating tag" in message
    assert "shop/web:1.4.2" not in message and "digest" in info.value.hint
    with pytest.raises(UsageError, match="1 image reference is not pinned"):
        enforce(["shop/api:latest"])
