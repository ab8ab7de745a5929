"""``portside doctor``: is this machine ready for the course? Every failing line says what to do."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from portside.base.paths import state_dir
from portside.errors import PortsideError

if TYPE_CHECKING:
    from portside.engine.daemon import EngineInfo

__all__ = ["Check", "Report", "buildx_version", "doctor", "engine_check", "upstream_version"]

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


#: the upstream version inside a version string: ``28.5.2`` of ``28.5.2+dfsg4``, ``0.29.1`` of ``v0.29.1-desktop.1``
_VERSION = re.compile(r"\bv?(\d+\.\d+(?:\.\d+)?)")


def upstream_version(text: str) -> str | None:
    """The release number in a version string, without a distribution's packaging suffix (``+dfsg4``, ``+ds1``)."""
    found = _VERSION.search(text)
    return found.group(1) if found else None


def buildx_version() -> str | None:
    """The version of the docker CLI's buildx plugin (``docker buildx version``), or None when it has none.

    The plugin is what makes ``docker build`` a BuildKit build; without it the course cannot build.
    """
    from portside.base.paths import isolate_docker_config
    from portside.base.proc import run
    from portside.engine import provided

    isolate_docker_config()
    if provided.link_buildx() is None:
        return None
    try:
        done = run([provided.docker_cli(), "buildx", "version"], timeout=30, check=False)
    except PortsideError:  # no docker CLI at all
        return None
    # "github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4": the second word is the version
    words = done.stdout.split()
    return upstream_version(words[1]) if done.ok and len(words) > 1 else None


def engine_check(found: EngineInfo, buildx: str | None) -> Check:
    """One line for the engine: its version, image store and builder, with what to do when one is off.

    An engine older than Engine :data:`~portside.setup.engine.MIN_CURRENT` works, but the lessons' outputs
    were recorded on a current one (BuildKit, the containerd image store), so some will differ: a warning.
    No buildx plugin means no BuildKit, and every build in the course needs it: a failure.
    """
    from portside.setup.engine import MIN_CURRENT

    version = upstream_version(found.server_version) or found.server_version
    builder = f"BuildKit (buildx {buildx})" if buildx else "no BuildKit (no docker CLI with the buildx plugin)"
    detail = f"Docker {version} (API {found.api_version}), {found.image_store} image store, {builder}"
    if buildx is None:
        return Check("engine", "Docker engine", "fail", detail,
                     "Install Docker's buildx plugin (Debian/Ubuntu: `apt-get install docker-buildx`; Docker Desktop "
                     "has it), or run `make setup` as root to get the course's own Docker Engine 28.")
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < MIN_CURRENT:
        return Check("engine", "Docker engine", "warn", detail,
                     f"Engine {version} is older than Engine {MIN_CURRENT}: the course works, but some outputs will "
                     "differ from the lessons' (they were recorded on Engine 28 with the containerd image store). "
                     "Update Docker, or run `make setup` as root on Debian/Ubuntu for the course's own engine.")
    return Check("engine", "Docker engine", "ok", detail)


def _engine_checks() -> tuple[list[Check], bool]:
    """The engine's lines, and whether an engine answered at all (the image checks need one)."""
    from portside.engine.daemon import info

    try:
        found = info()
    except PortsideError as exc:
        return [Check("engine", "Docker engine", "fail", exc.message, exc.hint)], False
    checks = [engine_check(found, buildx_version())]
    try:
        from portside.setup.cleanup import leftovers

        left = leftovers(namespaced=True)
    except PortsideError as exc:  # pragma: no cover - the engine answered a moment ago
        return [*checks, Check("engine", "course leftovers", "warn", exc.message)], True
    if left:
        checks.append(Check("engine", "course leftovers", "warn", str(left),
                            "Run `portside cleanup` (or `portside.cleanup()` in a notebook) to remove them."))
    else:
        checks.append(Check("engine", "course leftovers", "ok", "none"))
    return checks, True


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
    checks, answered = _engine_checks()
    if answered:
        checks += _image_checks()
    checks += _tool_checks()
    checks += _disk_checks()
    return Report(checks)
