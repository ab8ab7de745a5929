"""syft: list what is inside an image — a Software Bill of Materials (SBOM).

``source`` says where syft reads the image from, with a scheme prefix:

* ``docker:IMAGE`` — from the local Docker engine (``docker save`` under the hood);
* ``registry:HOST:PORT/REPO:TAG`` — straight from a registry, no engine involved;
* ``docker-archive:PATH.tar``, ``dir:PATH`` — from a saved image or a folder.

syft works offline here; its update check is switched off, and its cache lives in
the course state folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from portside.base.paths import state_dir
from portside.errors import ToolError
from portside.tools._runner import run_tool
from portside.tools.install import path, version_of

__all__ = ["component_names", "sbom", "version", "write_sbom"]


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    return {"SYFT_CHECK_FOR_APP_UPDATE": "false", "SYFT_CACHE_DIR": str(state_dir("syft-cache")), **(extra or {})}


def version() -> str:
    """syft's version, e.g. ``"1.18.1"``."""
    return version_of("syft", path("syft")) or "unknown"


def sbom(source: str, *, output_format: str = "cyclonedx-json", env: Mapping[str, str] | None = None,
         timeout: float = 600) -> dict[str, Any]:
    """The SBOM of ``source`` as a dict, in a JSON format (``cyclonedx-json``, ``spdx-json``, ``syft-json``)."""
    if not output_format.endswith("json"):
        raise ValueError(f"sbom() returns parsed JSON; {output_format!r} is not a JSON format "
                         "(use write_sbom() for other formats)")
    result = run_tool("syft", ["scan", source, "--output", output_format, "--quiet"], timeout=timeout,
                      env=_env(env), what=f"syft {source}",
                      hint="Check the source prefix (docker:, registry:, docker-archive:, dir:) and that the "
                           "image exists there.")
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise ToolError(f"syft printed something that is not JSON for {source}.", command=result.command,
                        returncode=result.returncode, stderr=result.stdout[:2000]) from exc
    return data


def write_sbom(source: str, dest: str | Path, *, output_format: str = "cyclonedx-json",
               env: Mapping[str, str] | None = None, timeout: float = 600) -> Path:
    """Write the SBOM of ``source`` to ``dest`` (e.g. as the predicate for ``cosign attest``)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    run_tool("syft", ["scan", source, "--output", f"{output_format}={dest}", "--quiet"], timeout=timeout,
             env=_env(env), what=f"syft {source}")
    return dest


def component_names(document: Mapping[str, Any]) -> list[str]:
    """``name@version`` of each component of a CycloneDX SBOM (sorted), for a short overview."""
    components = document.get("components") or []
    return sorted(f"{c.get('name')}@{c.get('version', '')}" for c in components if isinstance(c, dict))
