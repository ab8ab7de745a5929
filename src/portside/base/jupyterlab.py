"""JupyterLab set up for a course: its first-run question about fetching news answered, once, for this environment.

A fresh JupyterLab 4 asks in a toast whether it may fetch Jupyter's news, and the toast sits over the notebook a
learner has just opened; in a room with no internet the answer is no anyway. JupyterLab reads default settings from
``<sys.prefix>/share/jupyter/lab/settings/overrides.json`` (the environment's own, not the learner's home), and the
setting is ``@jupyterlab/apputils-extension:notification`` ``fetchNews`` (JupyterLab's *Announcements* docs,
checked 2026-12-01). A learner's own choice in JupyterLab's settings still wins.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from portside.errors import SetupError

__all__ = ["NOTIFICATION", "jupyter_executable", "quiet_news"]

NOTIFICATION = "@jupyterlab/apputils-extension:notification"
_QUIET = {"fetchNews": "false", "checkForUpdates": False}


def jupyter_executable() -> str:
    """The ``jupyter`` command of this environment (beside its Python), else the first on ``PATH``.

    Raises ``SetupError`` when there is none: JupyterLab is part of ``make setup``.
    """
    found = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if found is None:
        raise SetupError("JupyterLab is not installed in this environment.", hint="Run `make setup` first.")
    return found


def quiet_news(prefix: Path | None = None) -> Path | None:
    """Write (or merge into) the environment's ``overrides.json`` so JupyterLab does not ask about news.

    Returns the file, or None when the environment is not writable (nothing is changed then).
    """
    path = (prefix or Path(sys.prefix)) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        found = {}
    settings = found if isinstance(found, dict) else {}
    current = settings.get(NOTIFICATION) if isinstance(settings.get(NOTIFICATION), dict) else {}
    merged = {**_QUIET, **current} if current else dict(_QUIET)
    if settings.get(NOTIFICATION) != merged:
        settings[NOTIFICATION] = merged
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        except OSError:  # an environment the learner may not write (the course image writes it when built)
            return None
    return path
