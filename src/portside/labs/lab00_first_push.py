"""Lab 00 — your first push.

Scenario: the course registry only lets known users in. You are ``learner``. Log in,
publish the small ``busybox:1.35`` image as ``learner/hello:1.0``, then give the same
image a second tag, ``1``, without uploading it again — and without a ``latest``.
"""

from __future__ import annotations

from portside.engine.transfer import push, tag
from portside.labs.context import LabContext
from portside.labs.model import Lab, Requirement, Task
from portside.labs.predicates import logged_in, repository_lacks_tag, tag_exists, tag_is_image, tags_share_digest
from portside.registry.container import docker_login

__all__ = ["LAB"]

REPO = "learner/hello"
SOURCE = "busybox:1.35"


def _solve_push(ctx: LabContext) -> None:
    assert ctx.user and ctx.password
    docker_login(ctx.address, ctx.user, ctx.password)
    tag(SOURCE, ctx.ref(REPO, "1.0"))
    push(ctx.ref(REPO, "1.0"), progress=False)


def _solve_second_tag(ctx: LabContext) -> None:
    tag(ctx.ref(REPO, "1.0"), ctx.ref(REPO, "1"))
    push(ctx.ref(REPO, "1"), progress=False)


LOGGED_IN = Requirement(
    "you are logged in to the lab registry as learner",
    logged_in(),
    reads="machine",
    hints=[
        "The lab registry answers 401 to anyone who has not logged in. Log in once: the course's Docker "
        "client keeps the login in its own config file.",
        "Log in to lab.address as lab.user with lab.password — hand the password to the call, never print it.",
        "Idea: the real command with the password on its standard input, subprocess.run(['docker', 'login', "
        "'--username', lab.user, '--password-stdin', lab.address], input=lab.password, text=True), or "
        "portside.registry.docker_login(lab.address, lab.user, lab.password).",
    ],
)

PUSHED = Requirement(
    f"{REPO}:1.0 is in the registry",
    tag_exists(REPO, "1.0"),
    hints=[
        "A push goes where the image's name says: registry host first, then namespace/repository, then the tag.",
        f"The full name is lab.address + '/{REPO}:1.0' (namespace learner, repository hello, tag 1.0); "
        f"lab.ref('{REPO}', '1.0') builds it for you.",
        f"Idea: give {SOURCE} that second name and push it: !docker tag {SOURCE} TARGET and !docker push TARGET, "
        "or transfer.tag(source, target) and transfer.push(target) in Python.",
    ],
)

RIGHT_IMAGE = Requirement(
    f"{REPO}:1.0 is the {SOURCE} image",
    tag_is_image(REPO, "1.0", SOURCE),
    reads="machine",  # compares with the local image of that name
    hints=[
        f"The registry compares content, not names: the image under {REPO}:1.0 must be {SOURCE} itself.",
        "A tag is only a pointer. Point the local name at the right image again, then push: the registry "
        "tag moves with it.",
        f"Idea: !docker tag {SOURCE} TARGET and !docker push TARGET once more (or transfer.tag and transfer.push).",
    ],
)

SAME_DIGEST = Requirement(
    f"{REPO}:1 and {REPO}:1.0 are the same image",
    tags_share_digest(REPO, ["1.0", "1"]),
    hints=[
        "One release often carries several tags (1.0 and 1). The registry knows content by its manifest "
        "digest: both tags must resolve to the same one.",
        f"lab.client().digest('{REPO}', tag) shows the digest a tag points at; compare 1.0 and 1.",
        "Idea: tag the image you pushed as 1.0 with the …:1 name as well and push that name; the layers are "
        "already there, so only the small manifest travels.",
    ],
)

NO_LATEST = Requirement(
    f"{REPO} has no latest tag",
    repository_lacks_tag(REPO, "latest"),
    hints=[
        "A reference without a tag means :latest — a tag that moves with every careless push.",
        "registry:2 cannot delete one tag alone: deleting a manifest by digest removes every tag on it. "
        "The clean way back is to start over.",
        "Idea: lab.reset(), lab.fast_forward(2), then push only names that carry an explicit tag.",
    ],
)

LAB = Lab(
    slug="00-first-push",
    title="Your first push",
    images=[SOURCE],
    room=True,
    repositories=[REPO],
    tasks=[
        Task(1, "Log in and push your first image", [LOGGED_IN, PUSHED, RIGHT_IMAGE], _solve_push),
        Task(2, "A second tag for the same image", [SAME_DIGEST, NO_LATEST], _solve_second_tag),
    ],
)
