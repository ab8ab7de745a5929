"""trivy: find secrets left in image layers and mistakes in Dockerfiles — offline.

Trivy's vulnerability scanner needs a database that is downloaded from the internet;
the course does not use it. Secret scanning and Dockerfile checks are built into the
binary, so every call here passes the flags that forbid downloads
(``--skip-db-update``, ``--skip-java-db-update``, ``--skip-check-update``,
``--offline-scan``) and sets the variables that silence update checks and telemetry.
Trivy's cache lives in the course state folder, not in ``~/.cache``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from portside.base.paths import state_dir
from portside.base.proc import Result
from portside.errors import ToolError
from portside.tools._runner import run_tool
from portside.tools.install import path, version_of

__all__ = ["QUIET_ENV", "config", "misconfigurations", "parse_json", "sbom", "scan_secrets", "secrets", "version"]

#: Set as environment variables, so an older trivy that lacks one of them still runs.
QUIET_ENV = {
    "TRIVY_SKIP_VERSION_CHECK": "true",
    "TRIVY_DISABLE_TELEMETRY": "true",
    "TRIVY_SKIP_VEX_REPO_UPDATE": "true",
    "TRIVY_NO_PROGRESS": "true",
}
_OFFLINE = ["--skip-db-update", "--skip-java-db-update", "--offline-scan"]


def _common() -> list[str]:
    return ["--cache-dir", str(state_dir("trivy-cache")), "--config", ""]


def parse_json(result: Result, what: str) -> dict[str, Any]:
    """Trivy's JSON report from its output; a clear :class:`ToolError` when it printed something else."""
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise ToolError(f"trivy printed something that is not JSON for {what}.", command=result.command,
                        returncode=result.returncode, stderr=result.stderr) from exc
    return data


def _target(image_or_tar: str | Path) -> list[str]:
    """An existing file is a saved image (``docker save``); anything else is an image name."""
    if isinstance(image_or_tar, Path) or Path(image_or_tar).is_file():
        return ["--input", str(image_or_tar)]
    return [str(image_or_tar)]


def version() -> str:
    """trivy's version, e.g. ``"0.76.0"``."""
    return version_of("trivy", path("trivy")) or "unknown"


def scan_secrets(image_or_tar: str | Path, *, image_src: Sequence[str] = ("docker", "remote"),
                 env: Mapping[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Trivy's JSON report of secrets (keys, tokens, passwords) in every layer of an image.

    ``image_or_tar`` is an image name (looked up in ``image_src`` order: the local engine,
    then a registry) or the path of a ``docker save`` tar. :func:`secrets` lists the findings.
    """
    result = run_tool(
        "trivy",
        ["image", *_common(), *_OFFLINE, "--scanners", "secret", "--format", "json",
         "--image-src", ",".join(image_src), *_target(image_or_tar)],
        timeout=timeout, env={**QUIET_ENV, **(env or {})}, what=f"trivy image {image_or_tar}",
        hint="Check that the image exists locally (`docker image ls`) or in the registry you named.",
    )
    return parse_json(result, str(image_or_tar))


def config(folder: str | Path, *, env: Mapping[str, str] | None = None, timeout: float = 300) -> dict[str, Any]:
    """Trivy's JSON report of misconfigurations (Dockerfile, Kubernetes, …) in ``folder``.

    Uses the checks built into the binary. :func:`misconfigurations` lists the failures.
    """
    result = run_tool(
        "trivy", ["config", *_common(), "--skip-check-update", "--format", "json", str(folder)],
        timeout=timeout, env={**QUIET_ENV, **(env or {})}, what=f"trivy config {folder}",
    )
    return parse_json(result, str(folder))


def sbom(image_or_tar: str | Path, *, output_format: str = "cyclonedx",
         image_src: Sequence[str] = ("docker", "remote"), env: Mapping[str, str] | None = None,
         timeout: float = 600) -> dict[str, Any]:
    """Trivy's own SBOM of an image (``cyclonedx`` or ``spdx-json``) — compare it with syft's.

    An SBOM format switches trivy's security scanners off, so no database is needed.
    """
    result = run_tool(
        "trivy",
        ["image", *_common(), *_OFFLINE, "--format", output_format,
         "--image-src", ",".join(image_src), *_target(image_or_tar)],
        timeout=timeout, env={**QUIET_ENV, **(env or {})}, what=f"trivy image {image_or_tar}",
    )
    return parse_json(result, str(image_or_tar))


def secrets(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The secret findings of a :func:`scan_secrets` report, each with its ``Target`` (file) added."""
    found = []
    for result in report.get("Results") or []:
        for secret in result.get("Secrets") or []:
            found.append({"Target": result.get("Target"), **secret})
    return found


def misconfigurations(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The failed checks of a :func:`config` report, each with its ``Target`` (file) added."""
    found = []
    for result in report.get("Results") or []:
        for item in result.get("Misconfigurations") or []:
            if item.get("Status", "FAIL") == "FAIL":
                found.append({"Target": result.get("Target"), **item})
    return found
