"""Step 7, deploy: run the verified digest — by digest, in a labelled container.

The container is started from ``HOST:PORT/team/app@sha256:…``, the very digest the verify step
approved (a deployment that names a tag can be handed another image between the check and the
pull). It carries the course's labels and ``org.portside.deploy=<[deploy] name>``; a new deployment of
that name replaces the old one. ``expect = "exit"``: the app must exit 0 within ``timeout`` seconds;
``"running"``: it must still be running after ``timeout`` seconds. The container is removed
afterwards unless ``keep = true``, which leaves it as the current deployment (for a lab's checker,
or a service); :meth:`portside.pipeline.Pipeline.cleanup` removes it.
"""

from __future__ import annotations

import time
from typing import Any

import docker.errors
import requests

from portside.base.labels import course_labels, in_namespace
from portside.engine.daemon import client
from portside.engine.transfer import pull
from portside.errors import engine_error
from portside.pipeline.context import StepContext
from portside.pipeline.result import StepResult

__all__ = ["DEPLOY_LABEL", "deployments", "remove_deployments", "run_deploy"]

NAME = "deploy"
#: the label that names a deployment
DEPLOY_LABEL = "org.portside.deploy"


def deployments(name: str) -> list[Any]:
    """The containers of deployment ``name`` in this run's namespace (docker-py ``Container`` objects)."""
    found = client().containers.list(all=True, filters={"label": [f"{DEPLOY_LABEL}={name}"]})
    return [c for c in found if in_namespace(c.labels)]


def remove_deployments(name: str) -> int:
    """Remove every container of deployment ``name``; returns how many there were."""
    removed = 0
    for container in deployments(name):
        try:
            container.remove(force=True, v=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    return removed


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def run_deploy(ctx: StepContext) -> StepResult:
    verified = ctx.state.get("verify")
    if not verified:
        return StepResult(NAME, "error", "Nothing was verified: run the verify step first (deploy only what "
                          "verify approved).", summary="not verified")
    if verified.get("refused") or not verified.get("reference"):
        return StepResult(NAME, "refused", "The verify step refused this release: it is not deployed.",
                          summary="refused")
    config = ctx.config.deploy
    reference = str(verified["reference"])
    ctx.note(f"docker pull {reference}")
    ctx.note(f"docker run --label {DEPLOY_LABEL}={config.name} --network {config.network} {reference}")
    pull(reference, username=ctx.endpoint.username, password=ctx.endpoint.password, progress=False)
    remove_deployments(config.name)
    labels = {**course_labels("pipeline-deploy", deploy=config.name), **config.labels,
              "org.opencontainers.image.version": ctx.version}
    try:
        container = client().containers.run(reference, detach=True, labels=labels, network_mode=config.network)
    except docker.errors.APIError as exc:
        raise engine_error(exc, "docker run", reference) from None
    try:
        status: int | None
        if config.expect == "exit":
            try:
                status = int(container.wait(timeout=config.timeout)["StatusCode"])
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                status = None
        else:
            time.sleep(config.timeout)
            container.reload()
            status = None if container.status == "running" else int(container.attrs["State"]["ExitCode"])
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        image_id = str(container.image.id)
    finally:
        if not config.keep:
            container.remove(force=True, v=True)
    data = {"reference": reference, "digest": verified.get("digest"), "container": container.id,
            "image_id": image_id, "status": status, "output": output, "kept": config.keep}
    if config.expect == "exit" and status == 0:
        outcome, detail, summary = "passed", f"ran {ctx.repository} by digest; it exited 0: {_first_line(output)}", \
            "ran by digest"
    elif config.expect == "running" and status is None:
        outcome, detail, summary = "passed", (f"{ctx.repository} runs by digest, still up after "
                                              f"{config.timeout:g} s"), "running"
    elif status is None:
        outcome, detail, summary = "refused", (f"{ctx.repository} was still running after {config.timeout:g} s "
                                               "(expect = \"exit\")"), "did not exit"
    else:
        outcome, detail, summary = "refused", (f"{ctx.repository} exited with status {status}: "
                                               f"{output.strip().splitlines()[-1] if output.strip() else 'no output'}"
                                               ), f"exit {status}"
    if config.keep:
        detail += f"\nkept as deployment {config.name!r}"
    ctx.state.record(NAME, container=container.id, reference=reference, status=status, kept=config.keep)
    return StepResult(NAME, outcome, detail, data, summary=summary)  # type: ignore[arg-type]
