"""Lab 01 — publish ``myapp`` under your own namespace, without leaking your password.

Scenario: the lab registry stands in for Docker Hub, and your account there is
``kai``. The lab builds ``myapp:latest`` for you (``busybox:1.35`` plus labels, see
:mod:`portside.lessons.myapp`). Log in as kai and publish it as ``kai/myapp:1.0.0`` — the
``docker tag myapp:latest username/myapp:1.0.0`` of Docker Hub, with the lab
registry's address in front.

Besides the registry, the checker reads one file: the learner's **saved notebook**.
No output in it may show the password, nor the base64 ``auth`` value of a Docker
config (which decodes to the password). How the lab knows which notebook: when the
lab is (re)started, ``setup`` records the notebook of the kernel that started it
(Jupyter tells the kernel through ``JPY_SESSION_NAME``; VS Code through
``__vsc_ipynb_file__``; otherwise the kernel's working folder is the notebook's and
the file is ``01-publish.ipynb`` there, else the course's ``labs/01-publish.ipynb``).
A learner working on a renamed copy calls :func:`use_notebook` once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import docker.errors

from portside.base.paths import project_root
from portside.engine.transfer import push, tag
from portside.errors import LabError
from portside.labs.context import LabContext, LabState
from portside.labs.leaks import scan_notebook, secret_forms
from portside.labs.model import Lab, Outcome, Requirement, Task
from portside.labs.predicates import logged_in, tag_exists, tag_is_image
from portside.lessons import myapp
from portside.registry.container import docker_login

__all__ = ["LAB", "NOTEBOOK_NAME", "REPO", "SLUG", "TAG", "USER", "find_notebook", "notebook_path", "use_notebook"]

SLUG = "01-publish"
USER = "kai"
REPO = f"{USER}/myapp"
TAG = "1.0.0"
LOCAL = myapp.LOCAL_NAME
NOTEBOOK_NAME = f"{SLUG}.ipynb"
_OVERRIDE = "notebook.json"


# -- which notebook is the learner's ---------------------------------------------------------------------
def _kernel_notebook() -> Path | None:
    """The notebook this Python process is the kernel of, if the front end says so."""
    candidates: list[str] = []
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        candidates.append(str(shell.user_ns.get("__vsc_ipynb_file__") or ""))
    candidates.append(os.environ.get("JPY_SESSION_NAME", ""))
    for text in filter(None, candidates):
        path = Path(text)
        for guess in (path, Path.cwd() / path.name):
            if guess.suffix == ".ipynb" and guess.is_file():
                return guess.resolve()
    return None


def find_notebook() -> Path:
    """The learner's notebook as seen from this process (see the module docstring for the order)."""
    found = _kernel_notebook()
    if found is not None:
        return found
    here = Path.cwd() / NOTEBOOK_NAME
    if here.is_file():
        return here.resolve()
    root = project_root()
    return (root / "labs" / NOTEBOOK_NAME) if root else here


def use_notebook(path: str | Path) -> Path:
    """Tell the lab which saved notebook to read (kept until ``lab.close()``, across resets)."""
    notebook = Path(path).expanduser().resolve()
    if notebook.suffix != ".ipynb":
        raise LabError(f"{notebook.name} is not a notebook file (.ipynb).")
    state = LabState(SLUG)
    state.folder.mkdir(parents=True, exist_ok=True)
    (state.folder / _OVERRIDE).write_text(json.dumps({"notebook": str(notebook)}), encoding="utf-8")
    return notebook


def notebook_path(ctx: LabContext) -> Path:
    """The notebook the checker reads: :func:`use_notebook`'s choice, else the one recorded at setup."""
    override = ctx.state.folder / _OVERRIDE
    if override.is_file():
        return Path(json.loads(override.read_text(encoding="utf-8"))["notebook"])
    recorded = ctx.facts.get("notebook")
    return Path(recorded) if recorded else find_notebook()


def no_secret_in_outputs(ctx: LabContext) -> Outcome:
    """No output of the saved notebook shows the user's password or its base64 auth form."""
    if not ctx.user or not ctx.password:
        raise LabError(f"Lab {SLUG} has no password to look for.", hint=f"Run `portside lab reset {SLUG}`.")
    notebook = notebook_path(ctx)
    if not notebook.is_file():
        raise LabError(f"There is no saved notebook at {notebook.name} to check.",
                       hint="Save the notebook (Ctrl+S); working on a copy with another name? Run "
                            "portside.labs.lab01_publish.use_notebook('its-name.ipynb') once.")
    leaks = scan_notebook(notebook, secret_forms(ctx.user, ctx.password))
    if leaks:
        return Outcome.fail(f"in the saved {notebook.name}: " + "; ".join(str(leak) for leak in leaks))
    return Outcome.ok()


# -- set-up and solutions ----------------------------------------------------------------------------------
def _setup(ctx: LabContext) -> None:
    myapp.build(LOCAL)
    ctx.state.remember(notebook=str(find_notebook()))


def _solve_login(ctx: LabContext) -> None:
    assert ctx.user and ctx.password
    docker_login(ctx.address, ctx.user, ctx.password)


def _solve_publish(ctx: LabContext) -> None:
    try:
        ctx.docker.images.get(LOCAL)
    except docker.errors.ImageNotFound:
        myapp.build(LOCAL)
    target = ctx.ref(REPO, TAG)
    tag(LOCAL, target)
    push(target, progress=False)


# -- requirements --------------------------------------------------------------------------------------------
LOGGED_IN = Requirement(
    f"you are logged in to the lab registry as {USER}",
    logged_in(),
    reads="machine",
    hints=[
        "The lab registry answers 401 to anyone who has not logged in, like Docker Hub does for pushes. "
        "Log in once: the course's Docker client keeps the login in its own config file.",
        "Log in to lab.address as lab.user, handing lab.password straight to the call — never print it, "
        "never paste it into a cell.",
        "Idea: the real command with the password on its standard input, subprocess.run(['docker', 'login', "
        "'--username', lab.user, '--password-stdin', lab.address], input=lab.password, text=True), or "
        "portside.registry.docker_login(lab.address, lab.user, lab.password).",
    ],
)

NO_LEAK_NAME = "your saved notebook shows neither your password nor its base64 form"
NO_LEAK_HINTS = [
    "The checker reads your saved notebook file: an output there shows your password, or the base64 'auth' "
    "value of a Docker config, which decodes to the password in one step. Notebook outputs end up in files "
    "other people read.",
    "Clear that cell's output (right-click → Clear Cell Output), change the cell so it no longer prints the "
    "secret, save the notebook (Ctrl+S) and check again.",
    "Idea: pass lab.password straight to the call that needs it; to show that something worked, print what is "
    "safe — a user name, a True/False comparison — never the secret or the auth value.",
]
NO_LEAK = Requirement(NO_LEAK_NAME, no_secret_in_outputs, hints=NO_LEAK_HINTS, reads="machine")

PUSHED = Requirement(
    f"{REPO}:{TAG} is in the registry",
    tag_exists(REPO, TAG),
    hints=[
        f"On Docker Hub you would publish username/myapp:{TAG}: the namespace is the account you log in as. "
        "Here the lab registry's address comes first.",
        f"The full name is lab.address + '/{REPO}:{TAG}' (lab.ref('{REPO}', '{TAG}') builds it). Check the "
        f"namespace — your user, {USER}, nobody else's — and the exact tag: {TAG}, not 1.0 or latest.",
        f"Idea: give the local image {LOCAL} that name and push it: !docker tag {LOCAL} TARGET and "
        "!docker push TARGET, or transfer.tag(source, target) and transfer.push(target) in Python.",
    ],
)

RIGHT_IMAGE = Requirement(
    f"{REPO}:{TAG} is the {LOCAL} image built for this lab",
    tag_is_image(REPO, TAG, LOCAL),
    reads="machine",  # compares with the image built on the learner's machine
    hints=[
        f"The registry knows content, not names: the image under {REPO}:{TAG} must be {LOCAL} itself "
        "(the same manifest, whose digest is the local image ID on the containerd image store; the same "
        "config digest, the ID on the classic store).",
        "A tag is only a pointer. If you tagged another image (or rebuilt myapp), point the local name at "
        f"{LOCAL} again and push once more: the tag in the registry moves with it.",
        f"Idea: !docker tag {LOCAL} TARGET and !docker push TARGET again, with the same target as before (or "
        "transfer.tag and transfer.push).",
    ],
)

LAB = Lab(
    slug=SLUG,
    title="Publish myapp under your namespace",
    users=(USER,),
    images=[myapp.BASE],
    built_images=[LOCAL],
    setup=_setup,
    room=True,
    repositories=[REPO],
    tasks=[
        Task(1, f"Log in as {USER}", [LOGGED_IN, NO_LEAK], _solve_login),
        Task(2, f"Publish myapp as {REPO}:{TAG}",
             [PUSHED, RIGHT_IMAGE, NO_LEAK],
             _solve_publish),
    ],
)
