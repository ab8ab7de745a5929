"""The FROM lines of a Dockerfile: which bases are pinned by digest, read the way BuildKit reads them."""

from __future__ import annotations

from portside.pipeline.dockerfile import base_images, stage_count

DIGEST = "sha256:" + "ab" * 32


def test_stages_scratch_and_pins() -> None:
    text = f"""\
# syntax comments and blank lines are not instructions

FROM --platform=$BUILDPLATFORM python:3.11-slim-bookworm@{DIGEST} AS build
RUN echo hi
from build as test
FROM scratch
FROM busybox:1.35
"""
    found = base_images(text)
    assert [(b.image, b.stage, b.line, b.pinned) for b in found] == [
        (f"python:3.11-slim-bookworm@{DIGEST}", "build", 3, True), ("busybox:1.35", None, 7, False)]
    assert found[0].digest == DIGEST and found[1].digest is None
    assert str(found[1]) == "busybox:1.35: by tag only"
    assert stage_count(text) == 4


def test_global_args_and_build_args() -> None:
    text = "ARG PY=3.11\nARG BASE\nFROM python:${PY}-slim AS app\nFROM ${BASE:-debian:bookworm-slim}\n"
    assert [b.image for b in base_images(text)] == ["python:3.11-slim", "debian:bookworm-slim"]
    assert [b.image for b in base_images(text, {"PY": "3.12", "BASE": f"debian@{DIGEST}"})] == [
        "python:3.12-slim", f"debian@{DIGEST}"]


def test_continuations_and_the_escape_directive() -> None:
    assert [b.image for b in base_images("FROM \\\n  alpine:3.20 \\\n  AS base\nFROM base\n")] == ["alpine:3.20"]
    text = "# escape=`\nFROM `\n  mcr.example/windows:ltsc2022\n"
    assert [(b.image, b.line) for b in base_images(text)] == [("mcr.example/windows:ltsc2022", 2)]
