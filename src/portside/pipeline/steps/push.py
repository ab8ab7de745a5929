"""Step 4, push: every tag of the release, and only an image the gate passed.

The push refuses an image the scan step blocked, one it never scanned, and one that changed since
(its local image ID is not the one scanned). Each tag is pushed with ``docker push``; all of them
must name one digest, which is what the later steps sign, verify and run.
"""

from __future__ import annotations

from portside.engine.daemon import client
from portside.engine.transfer import push
from portside.pipeline.context import StepContext
from portside.pipeline.result import StepResult

__all__ = ["run_push"]

NAME = "push"


def run_push(ctx: StepContext) -> StepResult:
    scanned, tagged = ctx.state.get("scan"), ctx.state.get("tag")
    if not scanned:
        return StepResult(NAME, "error", "This image was never scanned: run the scan step first (the gate comes "
                          "before the registry).", summary="not scanned")
    if not scanned.get("passed"):
        return StepResult(NAME, "refused", f"The gate blocked {ctx.release}: nothing is pushed.",
                          summary="gate blocked")
    if not tagged:
        return StepResult(NAME, "error", "The release has no tags yet: run the tag step first.", summary="no tags")
    current = str(client().images.get(ctx.local_image).id)
    if current != scanned.get("image_id"):
        return StepResult(NAME, "refused", f"{ctx.release} is not the image the gate passed (it was rebuilt or "
                          "retagged since the scan): scan it again.", summary="not what was scanned")
    digests: dict[str, str] = {}
    for name in tagged["tags"]:
        ctx.note(f"docker push {ctx.ref(name)}")
        digests[name] = push(ctx.ref(name), username=ctx.endpoint.username, password=ctx.endpoint.password,
                             progress=False).digest
    if len(set(digests.values())) != 1:
        return StepResult(NAME, "error", "The tags were pushed as different digests: "
                          + ", ".join(f"{t} → {d}" for t, d in digests.items()), summary="digests differ")
    digest = next(iter(digests.values()))
    ctx.state.record(NAME, digest=digest, tags=list(digests))
    return StepResult(NAME, "passed", f"pushed {', '.join(digests)} of {ctx.repository}: one digest",
                      {"digest": digest, "tags": list(digests), "reference": ctx.ref(digest=digest)},
                      summary=f"{len(digests)} tags")
