"""The external tools of the course — cosign, syft, trivy — and how Portside finds or installs them.

``ensure()`` makes sure all three are available (``portside tools ensure``);
``cosign``, ``syft`` and ``trivy`` are thin typed wrappers that run them through
:func:`portside.base.proc.run` and resolve the binary only when called::

    from portside import tools
    tools.ensure()
    pair = tools.cosign.generate_key_pair(folder, password)
    tools.cosign.sign("localhost:5000/demo@sha256:…", pair.private, password)

Every download is checked against the sha256 the course reviewed (:mod:`.pins`,
:mod:`.verify`); :mod:`.provenance` shows where each binary came from and its hash
(``portside tools status``), and :func:`trivy_provenance` checks that the trivy binary
is Aqua Security's own build (``go version -m``).
"""

from __future__ import annotations

from portside.tools import cosign, pins, provenance, syft, trivy, verify
from portside.tools._runner import redact, redact_argv
from portside.tools.cosign import KeyPair, VerificationFailed
from portside.tools.install import TOOLS, Tool, ToolStatus, bin_dir, ensure, format_table, path, status, version_of
from portside.tools.provenance import TrivyProvenance, trivy_provenance
from portside.tools.verify import HashMismatch

__all__ = [
    "TOOLS",
    "HashMismatch",
    "KeyPair",
    "Tool",
    "ToolStatus",
    "TrivyProvenance",
    "VerificationFailed",
    "bin_dir",
    "cosign",
    "ensure",
    "format_table",
    "path",
    "pins",
    "provenance",
    "redact",
    "redact_argv",
    "status",
    "syft",
    "trivy",
    "trivy_provenance",
    "verify",
    "version_of",
]
