"""The seven steps of a release, one module each; :data:`STEP_FUNCTIONS` maps each name to its function."""

from __future__ import annotations

from collections.abc import Callable

from portside.pipeline.context import StepContext
from portside.pipeline.result import StepResult
from portside.pipeline.steps.build import run_build
from portside.pipeline.steps.deploy import run_deploy
from portside.pipeline.steps.push import run_push
from portside.pipeline.steps.scan import run_scan
from portside.pipeline.steps.sign import run_sign
from portside.pipeline.steps.tag import run_tag
from portside.pipeline.steps.verify import run_verify

__all__ = ["STEP_FUNCTIONS"]

STEP_FUNCTIONS: dict[str, Callable[[StepContext], StepResult]] = {
    "build": run_build, "tag": run_tag, "scan": run_scan, "push": run_push, "sign": run_sign,
    "verify": run_verify, "deploy": run_deploy,
}
