"""``portside doctor``: is this machine ready for the course? Every failing line says what to do."""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from portside.base.paths import state_dir
from portside.errors import PortsideError

__all__ = ["Check", "Report", "doctor"]

Status = Literal["ok", "warn", "fail"]
_MARK = {"ok": "✔", "warn": "!", "fail": "✘"}
_COLOUR = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e"}
_MIN_FREE_GB = 5.0


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{_MARK[self.status]} {self.area:<7} {self.name:<26} {self.detail}"
        return f"{text}\n    → {self.fix}" if self.fix and self.status != "ok" else text


@dataclass(frozen=True)
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def __str__(self) -> str:
        verdict = "Ready for the course." if self.ok else "Not ready yet: fix the ✘ lines above."
        return "\n".join([*(check.line() for check in self.checks), verdict])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='color:{_COLOUR[c.status]};font-weight:bold'>{_MARK[c.status]}</td>"
            f"<td>{html.escape(c.area)}</td><td><code>{html.escape(c.name)}</code></td>"
            f"<td>{html.escape(c.detail)}"
            + (f"<br><em>→ {html.escape(c.fix)}</em>" if c.fix and c.status != "ok" else "")
            + "</td></tr>"
            for c in self.checks
        )
        verdict = "Ready for the course." if self.ok else "Not ready yet: fix the ✘ lines."
        return (f"<table><thead><tr><th></th><th>area</th><th>what</th><th>state</th></tr></thead>"
                f"<tbody>{rows}</tbody></table><p><strong>{verdict}</strong></p>")


def _engine_checks() -> list[Check]:
    from portside.engine.daemon import info

    try:
        found = info()
    except PortsideError as exc:
        return [Check("engine", "Docker engine", "fail", exc.message, exc.hint)]
    checks = [Check("engine", "Docker engine", "ok",
                    f"Docker {found.server_version} (API {found.api_version}), {found.operating_system}")]
    try:
        from portside.setup.cleanup import leftovers

        left = leftovers(namespaced=True)
    except PortsideError as exc:  # pragma: no cover - the engine answered a moment ago
        return [*checks, Check("engine", "course leftovers", "warn", exc.message)]
    if left:
        checks.append(Check("engine", "course leftovers", "warn", str(left),
                            "Run `portside cleanup` (or `portside.cleanup()` in a notebook) to remove them."))
    else:
        checks.append(Check("engine", "course leftovers", "ok", "none"))
    return checks


def _image_checks() -> list[Check]:
    from portside.setup.images import status

    checks = []
    for image in status():
        if image.state == "missing":
            checks.append(Check("image", image.name, "fail", "missing", "Run `portside images ensure`."))
        else:
            size = f"{(image.size or 0) / 1e6:.0f} MB"
            kind = "stand-in built from Debian packages" if image.state == "stand-in" else "pulled"
            checks.append(Check("image", image.name, "ok", f"{kind}, {size}"))
    return checks


def _tool_checks() -> list[Check]:
    from portside.tools import status

    checks = []
    for tool in status():
        if tool.path is None:
            checks.append(Check("tool", tool.name, "warn", "not installed (lessons that need it will skip it)",
                                tool.note or "Run `portside tools ensure`."))
        else:
            where = "on PATH" if tool.source == "PATH" else "course tools folder"
            checks.append(Check("tool", tool.name, "ok", f"{tool.version} ({where})"))
    return checks


def _disk_checks() -> list[Check]:
    free = shutil.disk_usage(Path(state_dir())).free / 2**30
    status: Status = "ok" if free >= _MIN_FREE_GB else "warn"
    return [Check("disk", "free space", status, f"{free:.0f} GiB free",
                  f"The course needs about {_MIN_FREE_GB:.0f} GiB for images and tools; free some space.")]


def doctor() -> Report:
    """Check the engine, course images, tools and disk; return a report (HTML in Jupyter, text elsewhere)."""
    checks = _engine_checks()
    if checks[0].status == "ok":
        checks += _image_checks()
    checks += _tool_checks()
    checks += _disk_checks()
    return Report(checks)
