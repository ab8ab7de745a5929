"""portside.setup.images without an engine: the status table, and a failed pull worded with the engine's reason."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from portside.engine import transfer
from portside.setup import images
from portside.setup.images import ImageStatus


def test_format_table_lines_up_four_columns_and_leaves_the_source_free() -> None:
    statuses = [ImageStatus("registry:2", "stand-in", "sha256:" + "ab" * 32, 25_000_000, "Debian packages"),
                ImageStatus("x:1", "missing", None, None, "")]
    assert images.format_table(statuses) == (
        "image       state     size   id            source\n"
        "registry:2  stand-in  25 MB  abababababab  Debian packages\n"
        "x:1         missing   -      -             -")


def test_a_failed_pull_keeps_the_engines_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """images._pull goes through transfer.engine_pull and reports the engine's reason, untranslated."""
    asked: list[tuple[str, Any]] = []

    def refuse(name: str, *, display: Any = None) -> None:
        asked.append((name, display))
        raise docker.errors.APIError("500 Server Error", explanation="manifest for x:1 not found")

    monkeypatch.setattr(transfer, "engine_pull", refuse)
    with pytest.raises(images._PullFailed) as failed:
        images._pull("x:1", progress=False)
    assert str(failed.value) == "manifest for x:1 not found"
    assert asked == [("x:1", None)]  # no progress display when not asked (or not on a terminal)
