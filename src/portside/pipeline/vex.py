"""OpenVEX: a supplier's signed-off statement that a flaw does not affect a product — read by ``trivy --vex``.

An allow-list entry says "we ship this finding anyway, until this date, for this reason". A VEX
(Vulnerability Exploitability eXchange) statement says something else: "this product is **not
affected** by that vulnerability, and here is why" — the vulnerable code is not present, not in an
execute path, cannot be controlled by an attacker… OpenVEX (https://openvex.dev) is the small JSON
form of it that Trivy reads with ``--vex FILE``; a ``not_affected`` statement must carry a
``justification`` (one of five words) or an ``impact_statement``::

    {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "…", "author": "…", "timestamp": "…", "version": 1,
     "statements": [{"vulnerability": {"name": "GHSA-pr76-5cm5-w9cj"},
                     "products": [{"@id": "pkg:pypi/gitpython@3.1.29"}],
                     "status": "not_affected",
                     "justification": "vulnerable_code_not_in_execute_path",
                     "impact_statement": "The app never clones a repository."}]}

:func:`read_openvex` checks a file before the pipeline hands it to Trivy; :func:`openvex_document`
writes one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portside.errors import UsageError

__all__ = ["JUSTIFICATIONS", "STATUSES", "VexStatement", "openvex_document", "read_openvex", "write_openvex"]

CONTEXT = "https://openvex.dev/ns/v0.2.0"
STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
#: the justifications OpenVEX allows for ``not_affected`` (from the spec's status justifications)
JUSTIFICATIONS = ("component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
                  "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist")


@dataclass(frozen=True)
class VexStatement:
    """One statement: a vulnerability, the products (package URLs) it is about, and what is true of them."""

    vulnerability: str
    products: tuple[str, ...]
    status: str
    justification: str = ""
    impact_statement: str = ""

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"vulnerability": {"name": self.vulnerability},
                                 "products": [{"@id": p} for p in self.products], "status": self.status}
        if self.justification:
            entry["justification"] = self.justification
        if self.impact_statement:
            entry["impact_statement"] = self.impact_statement
        return entry


def _statement(raw: Any, where: str) -> VexStatement:
    if not isinstance(raw, dict):
        raise UsageError(f"{where} is not an object.", hint="Each statement is {\"vulnerability\": …, …}.")
    vulnerability = raw.get("vulnerability")
    name = vulnerability.get("name") if isinstance(vulnerability, dict) else vulnerability
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where} names no vulnerability.", hint='Write "vulnerability": {"name": "GHSA-…"}.')
    products = [p.get("@id") if isinstance(p, dict) else p for p in raw.get("products") or []]
    if not products or not all(isinstance(p, str) and p for p in products):
        raise UsageError(f"{where} ({name}) names no product.",
                         hint='List the package URLs it is about: "products": [{"@id": "pkg:pypi/name@1.0"}].')
    status = raw.get("status")
    if status not in STATUSES:
        raise UsageError(f"{where} ({name}): status {status!r} is not one of {', '.join(STATUSES)}.")
    justification = str(raw.get("justification") or "")
    impact = str(raw.get("impact_statement") or "")
    if justification and justification not in JUSTIFICATIONS:
        raise UsageError(f"{where} ({name}): justification {justification!r} is not an OpenVEX justification.",
                         hint=f"Use one of: {', '.join(JUSTIFICATIONS)}.")
    if status == "not_affected" and not (justification or impact):
        raise UsageError(f"{where} ({name}) says not_affected without a justification or an impact_statement.",
                         hint="OpenVEX requires one: say why the product is not affected "
                              '("justification": "vulnerable_code_not_in_execute_path").')
    return VexStatement(name, tuple(str(p) for p in products), str(status), justification, impact)


def read_openvex(path: Path) -> list[VexStatement]:
    """The statements of an OpenVEX file; :class:`UsageError` naming the file and statement for anything wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"There is no OpenVEX document at {Path(path).name}.",
                         hint="Check [scan] vex, or write one with pipeline.write_openvex(…).") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{Path(path).name} is not a JSON document: {exc}.") from None
    if not isinstance(document, dict) or not str(document.get("@context", "")).startswith("https://openvex.dev/ns"):
        raise UsageError(f"{Path(path).name} is not an OpenVEX document (no @context https://openvex.dev/ns/…).",
                         hint=f'Start it with "@context": "{CONTEXT}".')
    statements = document.get("statements")
    if not isinstance(statements, list) or not statements:
        raise UsageError(f"{Path(path).name} holds no statements.")
    return [_statement(raw, f"{Path(path).name}, statement {n}") for n, raw in enumerate(statements, start=1)]


def openvex_document(statements: Sequence[VexStatement], *, author: str, doc_id: str,
                     timestamp: dt.datetime | None = None) -> dict[str, Any]:
    """An OpenVEX document holding ``statements`` (each checked as :func:`read_openvex` checks them)."""
    for number, statement in enumerate(statements, start=1):
        _statement(statement.as_json(), f"statement {number}")
    when = (timestamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"@context": CONTEXT, "@id": doc_id, "author": author, "timestamp": when, "version": 1,
            "statements": [s.as_json() for s in statements]}


def write_openvex(path: Path, statements: Sequence[VexStatement], *, author: str, doc_id: str,
                  timestamp: dt.datetime | None = None) -> Path:
    """Write :func:`openvex_document` to ``path`` (indented JSON); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = openvex_document(statements, author=author, doc_id=doc_id, timestamp=timestamp)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
