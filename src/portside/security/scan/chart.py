"""A small severity bar chart as plain SVG text (no plotting library needed; notebooks display it inline)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from portside.security.advisories import Severity

__all__ = ["COLOURS", "severity_chart"]

#: the usual scanner colours, readable on white
COLOURS: dict[Severity, str] = {
    Severity.CRITICAL: "#8b0000",
    Severity.HIGH: "#d9480f",
    Severity.MEDIUM: "#e0a800",
    Severity.LOW: "#4c8c4a",
    Severity.UNKNOWN: "#868e96",
}


def severity_chart(counts: Mapping[Severity, int], *, title: str = "Findings by severity", width: int = 420) -> str:
    """One horizontal bar per severity (CRITICAL at the top), with its count; returns the SVG document."""
    order = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.UNKNOWN]
    bar_h, gap, left, top, right = 22, 8, 90, 34, 40
    height = top + len(order) * (bar_h + gap) + 6
    longest = max([counts.get(s, 0) for s in order] + [1])
    span = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="20" font-weight="bold">{escape(title)}</text>',
    ]
    for row, severity in enumerate(order):
        count = counts.get(severity, 0)
        y = top + row * (bar_h + gap)
        length = round(span * count / longest) if count else 0
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{severity.name}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{max(length, 1)}" height="{bar_h}" '
                     f'fill="{COLOURS[severity]}"/>')
        parts.append(f'<text x="{left + length + 6}" y="{y + 16}">{count}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
