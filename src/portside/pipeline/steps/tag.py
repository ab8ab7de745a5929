"""Step 2, tag: the release's tags — its semantic version, the floating ones it may move, and ``sha-<commit>``.

:func:`portside.lessons.tagging.plan_release` decides the version tags from the tags already published
in the registry (a hotfix ``1.2.4`` after ``1.3.0`` does not pull ``1`` back); the commit tag ties the
image to its source: ``sha-`` and the first seven hex digits of the commit ``[tag] commit`` names in
the repository ``[tag] git`` (or the commit id given with ``--commit``, as a CI job passes
``$GITHUB_SHA``). Each tag is a local name of the built image (``docker tag``); the push step sends them.
"""

from __future__ import annotations

import re

from portside.engine import transfer
from portside.errors import PortsideError, UsageError
from portside.lessons.tagging import git, plan_release
from portside.pipeline.context import StepContext
from portside.pipeline.local_images import drop_unnamed, owned_ids
from portside.pipeline.result import StepResult

__all__ = ["resolve_commit", "run_tag"]

NAME = "tag"
_HEX = re.compile(r"[0-9a-f]{7,64}")
_FULL = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def resolve_commit(ctx: StepContext, *, quiet: bool = False) -> str | None:
    """The full commit id ``[tag] commit`` names (a commit id is taken as it is when ``[tag] git`` is no repository).

    ``quiet``: ``None`` instead of an error when it cannot be resolved (the build only labels with it).
    """
    config = ctx.config.tag
    try:
        found = _git(ctx, "rev-parse", "--verify", "--quiet", f"{config.commit}^{{commit}}")
    except PortsideError:
        found = ""
    if _FULL.fullmatch(found):
        return found
    if _HEX.fullmatch(config.commit):
        return config.commit
    if quiet:
        return None
    raise UsageError(f"{config.commit!r} is not a commit of a git repository at {config.git.name}/.",
                     hint="Point [tag] git at the repository's top folder, or pass the commit id with --commit "
                          "(in GitHub Actions: --commit ${{ github.sha }}).")


def _git(ctx: StepContext, *args: str) -> str:
    """``git ARGS`` in ``[tag] git`` and never above it (a folder inside another checkout is not that checkout)."""
    folder = ctx.config.tag.git
    return git(folder, *args, env={"GIT_CEILING_DIRECTORIES": str(folder.parent)})


def _dirty(ctx: StepContext) -> bool:
    try:
        return bool(_git(ctx, "status", "--porcelain", "--untracked-files=no"))
    except PortsideError:
        return False


def run_tag(ctx: StepContext) -> StepResult:
    built = ctx.state.get("build")
    if not built:
        return StepResult(NAME, "error", "Nothing was built by this pipeline yet: run the build step first.",
                          summary="no image")
    commit = resolve_commit(ctx)
    assert commit is not None
    published = ctx.client().tags(ctx.repository)
    plan = plan_release(ctx.version, published=published, latest=ctx.config.tag.latest)
    commit_name = f"sha-{commit[:7]}"
    tags = [*plan.tags, commit_name]
    before = owned_ids(ctx.ref(name) for name in tags[1:])
    for name in tags[1:]:
        ctx.note(f"docker tag {ctx.local_image} {ctx.ref(name)}")
        transfer.tag(ctx.local_image, ctx.ref(name))
    drop_unnamed(before)
    ctx.state.record(NAME, tags=tags, commit=commit, left_alone=dict(plan.left_alone))
    detail = ", ".join(tags)
    if plan.left_alone:
        detail += " (left alone: " + "; ".join(f"{t} {why}" for t, why in plan.left_alone.items()) + ")"
    if ctx.version in published:
        detail += f"\nnote: {ctx.release} is already in the registry: pushing this release moves it"
    if _dirty(ctx):
        detail += f"\nwarning: the work tree has changes that are not in commit {commit_name}"
    return StepResult(NAME, "passed", detail, {"tags": tags, "commit": commit, "left_alone": dict(plan.left_alone)},
                      summary=f"{len(tags)} tags")
