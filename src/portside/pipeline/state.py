"""What one step hands the next: kept in ``<output>/state.json``, so a step can run on its own, in another process.

A CI job often runs each step as its own command (or its own job, passing artefacts on). Each
step records what the next one needs — the built image, the tags, the gate's verdict on that
image, the pushed digest, the signed digest and its SBOM, the verified digest — and each step
checks that what it needs is there, and refuses to go on from a step that did not pass: a
push after a blocked gate, a deployment of a digest nobody verified. A full run starts from an
empty state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["ReleaseState"]

STATE_FILE = "state.json"


class ReleaseState:
    """The facts steps leave for each other, by step name, read from and written to ``folder/state.json``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.facts: dict[str, dict[str, Any]] = {}
        path = self.folder / STATE_FILE
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            if isinstance(data, dict):
                self.facts = {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)}

    @property
    def path(self) -> Path:
        return self.folder / STATE_FILE

    def get(self, step: str) -> dict[str, Any]:
        """What ``step`` recorded (``{}`` if it has not run)."""
        return dict(self.facts.get(step) or {})

    def record(self, step: str, **facts: Any) -> None:
        """Replace what ``step`` recorded and forget what every later step recorded (it was about older facts)."""
        from portside.pipeline.result import STEPS

        self.facts[step] = facts
        if step in STEPS:
            for later in STEPS[STEPS.index(step) + 1:]:
                self.facts.pop(later, None)
        self.save()

    def clear(self) -> None:
        self.facts = {}
        self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.facts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
