"""Step 1, build: the Dockerfile's bases pinned by digest (or refused), then BuildKit, with provenance where it is kept.

The build reads every ``FROM`` first (:mod:`portside.pipeline.dockerfile`): a base named by tag only is
refused (``[build] base_pin = "require"``, the default) or reported (``"warn"``). Then
``docker buildx build --load`` (:func:`portside.engine.build.build`) builds the image under the
release's name in the release registry (``HOST:PORT/team/app:1.1.0``), with the course's labels and
the OCI ``version`` and ``revision`` labels, no network for ``RUN`` steps unless ``[build] network``
says otherwise, the platforms asked for, and BuildKit's provenance attestation. The engine keeps
attestations (and multi-platform images) only on the containerd image store: on the classic store
provenance is left out, and said so, and a multi-platform build is refused.
"""

from __future__ import annotations

from portside.base.labels import course_labels
from portside.engine.build import build
from portside.engine.daemon import uses_containerd_store
from portside.pipeline.context import StepContext
from portside.pipeline.dockerfile import base_images, stage_count
from portside.pipeline.local_images import KIND_IMAGE, drop_unnamed, owned_ids
from portside.pipeline.result import StepResult
from portside.pipeline.steps.tag import resolve_commit

__all__ = ["run_build"]

NAME = "build"


def _command(ctx: StepContext, provenance: bool) -> str:
    """The ``docker buildx build`` line this build is."""
    config = ctx.config.build
    parts = ["docker buildx build --load", f"--provenance={'true' if provenance else 'false'}"]
    if config.network:
        parts.append(f"--network {config.network}")
    if config.platforms:
        parts.append(f"--platform {','.join(config.platforms)}")
    parts += [f"--build-arg {k}={v}" for k, v in config.build_args.items()]
    if config.target:
        parts.append(f"--target {config.target}")
    if config.dockerfile != "Dockerfile":
        parts.append(f"-f {config.context.name}/{config.dockerfile}")
    parts += [f"-t {ctx.local_image}", f"{config.context.name}/"]
    return " ".join(parts)


def run_build(ctx: StepContext) -> StepResult:
    config = ctx.config.build
    text = config.dockerfile_path.read_text(encoding="utf-8")
    bases = base_images(text, config.build_args)
    unpinned = [b for b in bases if not b.pinned]
    data: dict[str, object] = {"bases": [b.image for b in bases], "unpinned": [b.image for b in unpinned],
                               "stages": stage_count(text)}
    if unpinned and config.base_pin == "require":
        named = ", ".join(f"{b.image} (line {b.line})" for b in unpinned)
        return StepResult(NAME, "refused",
                          f"FROM names a base by tag only: {named}. A tag can move, and every later build with "
                          "it: pin each base by digest (FROM name:tag@sha256:…; `crane digest name:tag` gives it).",
                          data, summary="FROM by tag")
    containerd = uses_containerd_store()
    if len(config.platforms) > 1 and not containerd:
        return StepResult(NAME, "error", f"{len(config.platforms)} platforms were asked for, but this engine uses "
                          "the classic image store, which cannot hold a multi-platform image.", data,
                          summary="classic store")
    provenance = config.provenance and containerd
    labels = {**course_labels(KIND_IMAGE, pipeline=ctx.repository.replace("/", "-")),
              "org.opencontainers.image.version": ctx.version,
              "org.opencontainers.image.title": ctx.repository}
    commit = resolve_commit(ctx, quiet=True)
    if commit:
        labels["org.opencontainers.image.revision"] = commit
    ctx.note(_command(ctx, provenance))
    before = owned_ids([ctx.local_image])
    built = build(config.context, tag=ctx.local_image, dockerfile=config.dockerfile, build_args=config.build_args,
                  labels=labels, target=config.target, provenance=provenance,
                  platforms=config.platforms or None, network=config.network)
    drop_unnamed(before, keep=built.id)
    ctx.state.record(NAME, image=ctx.local_image, image_id=built.id, provenance=provenance,
                     platforms=list(config.platforms))
    stages = stage_count(text)
    plural = "s" if stages != 1 else ""
    detail = f"{ctx.release} built from {stages} stage{plural}"
    if config.platforms:
        detail += f" for {', '.join(config.platforms)}"
    if bases and not unpinned:
        detail += "; every FROM pinned by digest"
    if provenance:
        detail += ", with BuildKit provenance"
    if unpinned:
        detail += "\nwarning: FROM by tag only (base_pin = \"warn\"): " + ", ".join(b.image for b in unpinned)
    if config.provenance and not provenance:
        detail += "\nnote: no provenance attestation: the classic image store keeps none"
    return StepResult(NAME, "passed", detail, {**data, "image": ctx.local_image, "image_id": built.id,
                                                "provenance": provenance}, summary=f"{stages} stage{plural}")
