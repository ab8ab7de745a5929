"""The external tools of the course — cosign, syft, trivy — and how Portside finds or installs them.

``ensure()`` makes sure all three are available (``portside tools ensure``);
``cosign``, ``syft`` and ``trivy`` are thin typed wrappers that run them through
:func:`portside.proc.run` and resolve the binary only when called::

    from portside import tools
    tools.ensure()
    pair = tools.cosign.generate_key_pair(folder, password)
    tools.cosign.sign("localhost:5000/demo@sha256:…", pair.private, password)
"""

from __future__ import annotations

from . import cosign, syft, trivy
from ._runner import redact, redact_argv
from .cosign import KeyPair, VerificationFailed
from .install import TOOLS, Tool, ToolStatus, bin_dir, ensure, format_table, path, status, version_of

__all__ = [
    "TOOLS",
    "KeyPair",
    "Tool",
    "ToolStatus",
    "VerificationFailed",
    "bin_dir",
    "cosign",
    "ensure",
    "format_table",
    "path",
    "redact",
    "redact_argv",
    "status",
    "syft",
    "trivy",
    "version_of",
]
