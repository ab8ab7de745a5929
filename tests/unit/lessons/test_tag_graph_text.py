"""The tags → digest picture: grouped by digest, deterministic, as text and SVG (no engine)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from portside.lessons.tag_graph import TagGraph

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_groups_text_and_svg() -> None:
    graph = TagGraph("myapp", {"1.2.3": A, "1.2": A, "1.3.0-rc.1": B, "latest": A}, {A: "release"})
    assert graph.digests == [A, B]
    assert graph.groups() == [(A, ["1.2.3", "1.2", "latest"]), (B, ["1.3.0-rc.1"])]
    assert graph.text().splitlines() == [
        "myapp: 4 tags → 2 manifests", f"  {A}  (release)", "    ← 1.2.3", "    ← 1.2", "    ← latest",
        f"  {B}", "    ← 1.3.0-rc.1"]
    svg = graph._repr_svg_()
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg")
    texts = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]
    assert {"1.2.3", "1.2", "latest", "1.3.0-rc.1", A, B, "release", "manifest"} <= set(texts)
    assert len(re.findall(r'class="arrow"', svg)) == 4
    assert svg == graph.svg()  # same data, same bytes: nbval can compare it
    assert {"exact version", "floating (minor/major)", "pre-release", "latest"} <= set(texts)


def test_text_is_escaped_in_svg() -> None:
    svg = TagGraph("a<b>", {"x": A}, {A: "R&D build"}).svg()
    assert "a&lt;b&gt;" in svg and "R&amp;D build" in svg
    ET.fromstring(svg)
