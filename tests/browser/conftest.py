"""The lessons in a real browser: the venv's JupyterLab, headless, and Debian's Chromium driven by Playwright.

* **JupyterLab** (:func:`jupyterlab`) runs on 127.0.0.1 on a port the system picks (``--port=0``, read back from the
  server's runtime file), behind a random token, with its own Jupyter config, data and runtime folders, user
  settings, workspaces and IPython folder, all in one temporary folder: the learner's own settings and workspace are
  neither read nor written. Its one setting is JupyterLab 4's own switch for the first-run news prompt
  (:data:`NO_NEWS`). It serves *copies* of ``notebooks/`` and ``labs/``, so running cells (or an autosave) never
  writes into the checkout.
* **Its kernels** get a namespace and a session of their own (this test process's, plus ``-browser``): what the
  notebooks create is labelled for them alone, so the test can tell that they cleaned up after themselves, and the
  suite's leak check still counts it as the run's.
* **Chromium** is Debian's package (``/usr/bin/chromium``, installed by ``scripts/test-deps.sh``), never a browser
  Playwright downloads; it runs headless with a fresh profile (its crash database and caches kept there too, not in
  the home folder) and without the background services that would try to reach the internet. The page may fetch
  nothing but the JupyterLab server: anything else is refused and noted.
* **Screenshots** and each page's browser console go to :data:`ARTIFACTS` (``test-artifacts/browser/``, emptied at
  the start of a run and ignored by git through its own ``.gitignore``).

Without Playwright or Chromium the tests skip, except under ``CI``, where a skip would hide a gap.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from secrets import token_hex
from typing import Any

import pytest
from browsertools import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    NO_NEWS,
    NOTIFICATION_PLUGIN,
    ROOT,
    SERVED,
    Browser,
    JupyterLab,
    kernel_processes,
    require_browser,
    server_info,
    stop,
)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``test-artifacts/browser/``, emptied: the screenshots and browser consoles of this run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    ignore = ARTIFACTS.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# test artefacts (screenshots): never committed\n*\n", encoding="utf-8")
    return ARTIFACTS


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """The venv's JupyterLab on copies of the lessons and labs; stopped, its kernels gone and its folders removed."""
    require_browser()
    from portside.base.paths import state_dir

    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "root"
    for folder in SERVED:
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = home / "user-settings"
    plugin_file = settings.joinpath(*NOTIFICATION_PLUGIN.split(":")).with_suffix(".jupyterlab-settings")
    plugin_file.parent.mkdir(parents=True)
    plugin_file.write_text(json.dumps(NO_NEWS) + "\n", encoding="utf-8")

    namespace = f"{os.environ.get('PORTSIDE_NAMESPACE') or 'portside'}-browser"
    token = token_hex(24)
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "IPYTHONDIR": str(home / "ipython"),
           "JUPYTER_TOKEN": token,  # in the environment, not on the command line where `ps` shows it
           "PORTSIDE_NAMESPACE": namespace, "PORTSIDE_SESSION": namespace,
           "PORTSIDE_PROGRESS": str(home / "progress.json")}
    env.pop("DOCKER_CONFIG", None)  # the course points each kernel at its namespace's own
    argv = [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--ip=127.0.0.1", "--port=0",
            "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: the test reads each cell's outputs from it
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = home / "jupyterlab.log"
    lab: JupyterLab | None = None
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        info = server_info(home, process, log)
        lab = JupyterLab(url=info["url"], token=token, namespace=namespace, home=home)
        assert json.loads(lab.setting(NOTIFICATION_PLUGIN)) == NO_NEWS
        yield lab
    finally:
        stop(process, lab)
        if ARTIFACTS.is_dir():
            shutil.copy(log, ARTIFACTS / "jupyterlab.log")
        left = kernel_processes(home)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(state_dir("runs", namespace), ignore_errors=True)  # the kernels' Docker config, lab state
        assert not left, f"kernel processes outlived JupyterLab (killed): {left}"


@pytest.fixture(scope="module")
def browser(jupyterlab: JupyterLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Debian's Chromium, headless, with a fresh profile (removed afterwards), reaching only the JupyterLab server."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
            # its crash database and GTK's dconf cache would go to ~/.config and ~/.cache otherwise
            env={**os.environ, "XDG_CONFIG_HOME": str(profile / "config"), "XDG_CACHE_HOME": str(profile / "cache")})
        context.set_default_timeout(60_000)
        chromium = Browser(context)

        def refuse(route: Any) -> None:
            chromium.refused.append(route.request.url)
            route.abort()

        context.route(lambda url: not url.startswith(jupyterlab.url), refuse)
        try:
            yield chromium
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Browser, jupyterlab: JupyterLab, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new browser tab. Afterwards: a screenshot of it (``NAME-end.png``) and its console (``NAME.console.txt``),
    every kernel shut down, and whatever the kernels left on the engine removed (which fails the test)."""
    from portside.setup.cleanup import cleanup

    tab = browser.context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    name = request.node.name
    try:
        yield tab
    finally:
        try:
            tab.screenshot(path=artifacts / f"{name}-end.png")
        finally:
            (artifacts / f"{name}.console.txt").write_text("\n".join(console) + "\n", encoding="utf-8")
            tab.close()
            jupyterlab.shut_down_kernels()
            left = cleanup(jupyterlab.namespace)  # by the kernels' own session label: nothing else is touched
            if left:
                pytest.fail(f"the notebooks left this on the engine (now removed): {left}")
