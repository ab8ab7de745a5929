"""Find secrets in a saved notebook's outputs.

A notebook stores what its cells printed next to the code, and notebooks get
committed, shared and graded. A password printed once stays in the file until the
output is cleared. :func:`scan_notebook` reads the ``.ipynb`` file (what was last
saved, not what the kernel holds) and reports every output that contains a secret,
in any of the forms it is commonly leaked in:

* the secret itself;
* ``base64("user:password")``, the ``auth`` field of a Docker config, which decodes
  to the password in one step (see :mod:`portside.oci.credentials`).

>>> forms = secret_forms("ada", "s3cret")
>>> sorted(forms)
['the base64 auth value of ada', 'the password']
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portside.errors import LabError

__all__ = ["Leak", "output_texts", "scan_notebook", "secret_forms"]


@dataclass(frozen=True)
class Leak:
    """One output that shows a secret: cell number (1-based, all cells counted) and the form found."""

    cell: int
    form: str

    def __str__(self) -> str:
        return f"cell {self.cell} shows {self.form}"


def secret_forms(user: str, password: str) -> dict[str, str]:
    """The forms a registry password leaks in, by name (names are safe to print; values are not)."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"the password": password, f"the base64 auth value of {user}": auth.rstrip("=")}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield "".join(v for v in value if isinstance(v, str))
        for item in value:
            if not isinstance(item, str):
                yield from _texts(item)
    elif isinstance(value, dict):
        yield json.dumps(value)
        for item in value.values():
            yield from _texts(item)


def output_texts(output: Mapping[str, Any]) -> list[str]:
    """Every piece of text one notebook output holds (stream text, each MIME type, error text)."""
    texts: list[str] = []
    for key in ("text", "data", "ename", "evalue", "traceback"):
        if key in output:
            texts += list(_texts(output[key]))
    return texts


def scan_notebook(path: Path | str, secrets: Mapping[str, str]) -> list[Leak]:
    """Each (cell, form) whose saved outputs contain one of ``secrets`` (``{form name: value}``)."""
    notebook = Path(path)
    try:
        data = json.loads(notebook.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabError(f"There is no saved notebook at {notebook.name}.",
                       hint="Save the notebook (Ctrl+S), then check again.") from None
    except (OSError, ValueError) as exc:
        raise LabError(f"Could not read the notebook {notebook.name}: {exc}") from None
    leaks: list[Leak] = []
    for number, cell in enumerate(data.get("cells") or [], 1):
        texts = [text for output in cell.get("outputs") or [] for text in output_texts(output)]
        for form, value in secrets.items():
            if value and any(value in text for text in texts):
                leaks.append(Leak(number, form))
    return leaks
