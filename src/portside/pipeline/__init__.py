"""Layer 10, the pipeline: a release the way a team puts it in CI, as steps the harness and ``portside pipeline`` run.

build → tag → scan → push → sign → verify → deploy, each a function that returns a typed
:class:`StepResult`, each callable on its own (from Python: ``Pipeline.scan()``; from a CI job:
``portside pipeline scan``), and a run that stops at the first step that refuses or fails::

    from portside import pipeline
    release = pipeline.Pipeline("pipeline.toml", registry=registry)
    result = release.run()         # RunResult: text, and a picture of the chain in Jupyter
    pipeline.exit_code(result)     # 0 released, 1 refused (the release is blocked), 2 could not run

It adds no new machinery: the build is :func:`portside.engine.build.build` (BuildKit), the tags come
from :mod:`portside.lessons.tagging`, the gate is :mod:`portside.security.scan` (and the real Trivy
with the course's database, :mod:`portside.security.trivydb`), signing is :mod:`portside.tools.cosign`,
verification :func:`portside.security.signing.verify_before_deploy`. (It sits above ``lessons/``
because it reuses the tagging rules that live there.)

=================  ====================================================================================
``config``         ``pipeline.toml`` read with ``tomllib`` and checked: :func:`load_config`, :class:`PipelineConfig`
``dockerfile``     the ``FROM`` lines and whether each is pinned by digest: :func:`base_images`
``vex``            OpenVEX documents Trivy reads with ``--vex``: :func:`read_openvex`, :func:`write_openvex`
``gates``          the gate per scanner, on an image or on a signed SBOM: :class:`GateVerdict`
``provenance``     BuildKit's provenance read back from the registry: :func:`read_provenance`
``state``          what one step leaves the next (``<output>/state.json``): :class:`ReleaseState`
``context``        what every step works with: :class:`StepContext`
``steps/``         one module per step: ``build``, ``tag``, ``scan``, ``push``, ``sign``, ``verify``, ``deploy``
``result``         :class:`StepResult`, :class:`RunResult`, :func:`exit_code`, :data:`STEPS`
``picture``        a run as a chain of coloured boxes (SVG) or one line of text
``runner``         :class:`Pipeline` and :func:`run`
=================  ====================================================================================
"""

from __future__ import annotations

from portside.pipeline.config import CONFIG_FILE, PipelineConfig, load_config, parse_config
from portside.pipeline.dockerfile import BaseImage, base_images
from portside.pipeline.gates import GateVerdict
from portside.pipeline.picture import chain_svg, chain_text
from portside.pipeline.provenance import Provenance, read_provenance
from portside.pipeline.result import EXIT_CODES, STEPS, RunResult, StepResult, exit_code
from portside.pipeline.runner import Pipeline, run
from portside.pipeline.steps.deploy import DEPLOY_LABEL, deployments, remove_deployments
from portside.pipeline.vex import VexStatement, read_openvex, write_openvex

__all__ = [
    "CONFIG_FILE",
    "DEPLOY_LABEL",
    "EXIT_CODES",
    "STEPS",
    "BaseImage",
    "GateVerdict",
    "Pipeline",
    "PipelineConfig",
    "Provenance",
    "RunResult",
    "StepResult",
    "VexStatement",
    "base_images",
    "chain_svg",
    "chain_text",
    "deployments",
    "exit_code",
    "load_config",
    "parse_config",
    "read_openvex",
    "read_provenance",
    "remove_deployments",
    "run",
    "write_openvex",
]
