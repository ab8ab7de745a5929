"""What the browser tests share: the JupyterLab server's handle and settings, Debian's Chromium and its flags.

The fixtures that use them, and what each promises, are in this folder's conftest.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
#: where the screenshots go
ARTIFACTS = ROOT / "test-artifacts" / "browser"
#: Debian's Chromium (scripts/test-deps.sh installs it)
CHROMIUM = Path("/usr/bin/chromium")
#: Chromium's flags here: no sandbox (root), no GPU, and none of the services that call home
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: JupyterLab 4's first-run question "Would you like to get notified about official Jupyter news?" is asked while
#: this setting is "none" (its default); "false" answers it: never fetch news (nor check for updates, which only
#: runs with news on). https://jupyterlab.readthedocs.io/en/stable/user/announcements.html, checked 2026-12-01
NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
NO_NEWS = {"fetchNews": "false", "checkForUpdates": False}
#: the course folders the browser opens, copied into the server's root
SERVED = ("notebooks", "labs")
START_TIMEOUT = 60.0


def require_browser() -> None:
    """Skip (fail under CI) without the Python ``playwright`` package or Debian's Chromium."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        missing.append("Debian's chromium (scripts/test-deps.sh, or apt-get install chromium)")
    if missing:
        message = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):  # `make test` installs both: in CI a skip would hide a gap
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class JupyterLab:
    """A running JupyterLab server: its address, token, the namespace of its kernels, and its REST API."""

    url: str  # http://127.0.0.1:PORT/
    token: str
    namespace: str  # its kernels' PORTSIDE_NAMESPACE and PORTSIDE_SESSION
    home: Path  # the temporary folder with everything the server writes
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.http.headers["Authorization"] = f"token {self.token}"

    def page_url(self, path: str = "") -> str:
        """The browser address that opens ``path`` (a notebook under the server's root) in a reset workspace."""
        tree = f"tree/{quote(path)}" if path else ""
        return f"{self.url}lab/{tree}?reset&token={self.token}"

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.http.request(method, self.url + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def setting(self, plugin: str) -> str:
        """A plugin's user settings, as the raw JSON text JupyterLab keeps."""
        return str(self.api("GET", f"lab/api/settings/{plugin}").json()["raw"])

    def set_setting(self, plugin: str, raw: str) -> None:
        self.api("PUT", f"lab/api/settings/{plugin}", json={"raw": raw})

    def shut_down_kernels(self) -> None:
        """End every notebook session and its kernel (as Kernel → Shut Down Kernel would, without its dialog)."""
        for session in self.api("GET", "api/sessions").json():
            self.api("DELETE", f"api/sessions/{session['id']}")
        for kernel in self.api("GET", "api/kernels").json():  # a kernel without a session, if any
            self.api("DELETE", f"api/kernels/{kernel['id']}")


def kernel_processes(home: Path) -> list[int]:
    """Kernel processes started by this server: their connection file lies in its runtime folder."""
    found = []
    marker = str(home / "runtime").encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.startswith(marker) and b"kernel-" in arg for arg in args):
            found.append(int(cmdline.parent.name))
    return found


def server_info(home: Path, process: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """Wait for the server's runtime file (``jpserver-PID.json``) and for its API to answer; the file's contents."""
    info_file = home / "runtime" / f"jpserver-{process.pid}.json"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode} while starting; its log ends:\n"
                               + tail(log))
        try:
            info: dict[str, Any] = json.loads(info_file.read_text())
            requests.get(info["url"] + "api/status", timeout=5,
                         headers={"Authorization": f"token {info['token']}"}).raise_for_status()
            return info
        except (OSError, ValueError, KeyError, requests.RequestException):  # not written (in full) yet, not up yet
            time.sleep(0.2)
    raise RuntimeError(f"JupyterLab did not answer within {START_TIMEOUT:.0f} s; its log ends:\n" + tail(log))


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen[bytes], lab: JupyterLab | None) -> None:
    """Ask the server to shut down (it ends its kernels), then make sure: SIGTERM, SIGKILL to its process group."""
    if lab is not None and process.poll() is None:
        try:
            lab.api("POST", "api/shutdown")
        except requests.RequestException:
            pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Browser:
    """A Playwright browser context of Debian's Chromium, and the requests it refused (anything but JupyterLab)."""

    context: Any
    refused: list[str] = field(default_factory=list)
