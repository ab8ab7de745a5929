"""The ``portside verify`` command (registered in :mod:`portside.cli.main`): verify before deploy, as a CI/CD step.

``portside verify REF@sha256:… --key cosign.pub`` runs :func:`portside.security.signing.verify_before_deploy`:
the reference must name a digest, carry a signature and a CycloneDX SBOM attestation by that key, and
the attested SBOM must pass the scan gate. Exit **0** deploy, **1** refuse, **2** could not verify.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portside.cli.common import advisories_option, fail, fail_on_option
from portside.errors import PortsideError

__all__ = ["verify"]


@click.command("verify")
@click.argument("reference")
@click.option("--key", "public_key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signer's public key (cosign.pub).")
@fail_on_option("The scan gate on the attested SBOM.")
@click.option("--fail-on-unrated", "fail_on_unrated", is_flag=True,
              help="Also refuse findings no loaded advisory rates (UNKNOWN severity).")
@advisories_option()
def verify(reference: str, public_key: Path, fail_on: str, fail_on_unrated: bool,
           advisories_path: Path | None) -> None:
    """Decide whether REFERENCE (REPO@sha256:…) may be deployed: digest, signature, SBOM attestation, scan gate."""
    from portside.security.signing import scan_gate, verify_before_deploy

    try:
        decision = verify_before_deploy(reference, public_key,
                                        policy=scan_gate(fail_on=fail_on, advisories=advisories_path,
                                                         block_unrated=fail_on_unrated))
    except PortsideError as exc:  # any kind: a reference that could not be verified is exit 2
        fail(exc)
    click.echo(str(decision))
    sys.exit(0 if decision.allowed else 1)
