"""Draw a repository's tags and the manifests they point at, from live registry data.

A tag is a movable name; a digest is the content. The picture puts the names on the
left (coloured by what they promise: exact version, floating, pre-release, commit,
``latest``), the manifest digests on the right, and an arrow from each tag to its
manifest. Several arrows into one box mean several names for one image.

>>> graph = tag_graph(registry.client(), "myapp")    # doctest: +SKIP
>>> graph                                            # an SVG in Jupyter, a text table elsewhere
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from portside.lessons.tagging import TagKind, classify, tag_map

if TYPE_CHECKING:
    from portside.oci.registry_client import RegistryClient

__all__ = ["TagGraph", "tag_graph"]

#: fill and stroke per kind of tag
_STYLE: dict[TagKind, tuple[str, str, str]] = {
    "exact": ("#dbe9ff", "#1f6feb", "exact version"),
    "minor": ("#dcf5e3", "#1a7f37", "floating (minor/major)"),
    "major": ("#dcf5e3", "#1a7f37", "floating (minor/major)"),
    "prerelease": ("#efe6ff", "#8250df", "pre-release"),
    "commit": ("#fff3cd", "#9a6700", "commit"),
    "latest": ("#ffe1e1", "#cf222e", "latest"),
    "other": ("#eaeef2", "#57606a", "other"),
}

_ROW, _GAP, _TOP = 34, 18, 70
_TAG_X, _TAG_W, _TAG_H = 20, 170, 26
_BOX_X, _BOX_W = 300, 470
_WIDTH = _BOX_X + _BOX_W + 20


@dataclass(frozen=True)
class TagGraph:
    """Tags of one repository and the digests they resolve to; shows as SVG in Jupyter."""

    repository: str
    tags: Mapping[str, str]
    captions: Mapping[str, str] = field(default_factory=dict)  # digest -> a few words ("first build")

    @property
    def digests(self) -> list[str]:
        """The distinct digests, in the order their first tag appears."""
        return list(dict.fromkeys(self.tags.values()))

    def groups(self) -> list[tuple[str, list[str]]]:
        """``(digest, [tags])`` for each distinct digest."""
        return [(d, [t for t, td in self.tags.items() if td == d]) for d in self.digests]

    # -- text form ---------------------------------------------------------------------------------------
    def text(self) -> str:
        count = len(self.digests)
        lines = [f"{self.repository}: {len(self.tags)} tags → {count} manifest{'s' if count != 1 else ''}"]
        for digest, tags in self.groups():
            caption = f"  ({self.captions[digest]})" if digest in self.captions else ""
            lines.append(f"  {digest}{caption}")
            lines += [f"    ← {tag}" for tag in tags]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    # -- picture -------------------------------------------------------------------------------------------
    def svg(self) -> str:
        """The picture as an SVG document (no ids or random values: the same data gives the same bytes)."""
        parts: list[str] = []
        y = _TOP
        kinds: list[TagKind] = []
        for digest, tags in self.groups():
            top = y
            rows = []
            for tag in tags:
                kind = classify(tag)
                kinds.append(kind)
                rows.append((tag, kind, y))
                y += _ROW
            height = max(y - top - (_ROW - _TAG_H), 46)
            box_mid = top + height / 2
            parts.append(f'<rect x="{_BOX_X}" y="{top}" width="{_BOX_W}" height="{height}" rx="8" '
                         f'fill="#f6f8fa" stroke="#57606a"/>')
            caption = self.captions.get(digest, "manifest")
            parts.append(f'<text x="{_BOX_X + 12}" y="{box_mid - 5:.0f}" class="cap">{escape(caption)}</text>')
            parts.append(f'<text x="{_BOX_X + 12}" y="{box_mid + 12:.0f}" class="dig">{escape(digest)}</text>')
            for tag, kind, row_y in rows:
                fill, stroke, _ = _STYLE[kind]
                mid = row_y + _TAG_H / 2
                parts.append(f'<rect x="{_TAG_X}" y="{row_y}" width="{_TAG_W}" height="{_TAG_H}" rx="6" '
                             f'fill="{fill}" stroke="{stroke}"/>')
                parts.append(f'<text x="{_TAG_X + _TAG_W / 2:.0f}" y="{mid + 4.5:.0f}" class="tag" '
                             f'text-anchor="middle">{escape(tag)}</text>')
                x1, x2 = _TAG_X + _TAG_W, _BOX_X - 4
                parts.append(f'<path d="M{x1},{mid:.0f} C{x1 + 55},{mid:.0f} {x2 - 55},{box_mid:.0f} '
                             f'{x2},{box_mid:.0f}" class="arrow"/>')
            y = top + height + _GAP
        legend_y = y + 6
        parts += self._legend(kinds, legend_y)
        total_h = legend_y + 16
        title = escape(self.repository)
        head = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{total_h}" '
            f'viewBox="0 0 {_WIDTH} {total_h}" font-family="sans-serif">',
            "<defs><marker id=\"pt-arrowhead\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
            "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#57606a\"/></marker></defs>",
            "<style>.tag{font:13px monospace;fill:#24292f}.dig{font:10px monospace;fill:#24292f}"
            ".cap{font:bold 12px sans-serif;fill:#24292f}.head{font:12px sans-serif;fill:#57606a}"
            ".arrow{fill:none;stroke:#57606a;stroke-width:1.4;marker-end:url(#pt-arrowhead)}</style>",
            f'<rect width="{_WIDTH}" height="{total_h}" fill="white"/>',
            f'<text x="{_TAG_X}" y="26" font-size="15" font-weight="bold" fill="#24292f">{title}</text>',
            f'<text x="{_TAG_X}" y="{_TOP - 10}" class="head">tags: names that can move</text>',
            f'<text x="{_BOX_X}" y="{_TOP - 10}" class="head">manifest digests: the content itself</text>',
        ]
        return "\n".join([*head, *parts, "</svg>"]) + "\n"

    def _legend(self, kinds: Iterable[TagKind], y: float) -> list[str]:
        present = set(kinds)
        labels = list(dict.fromkeys(style for kind, style in _STYLE.items() if kind in present))
        out, x = [], _TAG_X
        for fill, stroke, label in labels:
            out.append(f'<rect x="{x}" y="{y - 10}" width="14" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>')
            out.append(f'<text x="{x + 20}" y="{y + 1}" class="head">{escape(label)}</text>')
            x += round(34 + 6.4 * len(label))
        return out

    def _repr_svg_(self) -> str:
        return self.svg()


def tag_graph(client: RegistryClient, repository: str, tags: Iterable[str] | None = None,
              captions: Mapping[str, str] | None = None) -> TagGraph:
    """Read ``repository``'s tags (all, or just ``tags``) and their digests from the registry, live."""
    return TagGraph(repository, tag_map(client, repository, tags), dict(captions or {}))
