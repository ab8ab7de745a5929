"""Use the hub as a learner does, from Python: log in, start the server, run a notebook's cells in it.

The login is the hub's own form (``/hub/login`` with its ``_xsrf`` field); the server is started and watched
through the hub's REST API (``/hub/api/users/NAME/server``), and a token the learner makes for themself
(``/hub/api/users/NAME/tokens``) opens the server's Jupyter API through the proxy: a session
(``/user/NAME/api/sessions``, which starts a kernel in the notebook's folder) and the kernel's websocket
(``…/api/kernels/ID/channels``), where each cell is sent as an ``execute_request`` (Jupyter messaging
protocol, built by :class:`jupyter_client.session.Session`) and its outputs are collected until the kernel
is idle again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import websocket
from jupyter_client.session import Session

from portside.errors import RoomError

__all__ = ["CellResult", "Kernel", "Learner", "notebook_cells"]


@dataclass
class CellResult:
    """One cell's run: its status (``ok``/``error``), its text output, the error's name and value if any."""

    source: str
    status: str
    text: str
    error: str = ""


@dataclass
class Learner:
    """A learner at the hub ``url``: :meth:`login`, :meth:`start`, then :meth:`run` cells."""

    url: str
    name: str
    password: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str = ""

    def _xsrf(self) -> dict[str, str]:
        return {"X-XSRFToken": self.http.cookies.get("_xsrf", path="/hub/") or ""}

    def login(self) -> None:
        page = self.http.get(f"{self.url}/hub/login", timeout=30)
        page.raise_for_status()
        answer = self.http.post(f"{self.url}/hub/login?next=", timeout=30, allow_redirects=False,
                                data={"username": self.name, "password": self.password,
                                      "_xsrf": self.http.cookies.get("_xsrf", path="/hub/") or ""})
        if answer.status_code != 302:
            raise RoomError(f"{self.name} could not log in to the hub (HTTP {answer.status_code}).")
        made = self.http.post(f"{self.url}/hub/api/users/{self.name}/tokens", headers=self._xsrf(), timeout=30,
                              json={"note": "portside hub client", "expires_in": 3600})
        made.raise_for_status()
        self.token = str(made.json()["token"])

    def _api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def start(self, timeout: float = 240) -> None:
        """Ask the hub for this learner's server and wait until it is ready."""
        asked = self._api("POST", f"/hub/api/users/{self.name}/server")
        if asked.status_code not in (201, 202, 400):  # 400: already running
            raise RoomError(f"The hub refused to start {self.name}'s server: HTTP {asked.status_code} {asked.text}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self._api("GET", f"/hub/api/users/{self.name}").json()
            server = (model.get("servers") or {}).get("", {})
            if server.get("ready"):
                return
            if not model.get("pending") and not server:
                raise RoomError(f"{self.name}'s server stopped while starting (see the hub's log).")
            time.sleep(1)
        raise RoomError(f"{self.name}'s server was not ready within {timeout:.0f} s.")

    def stop(self) -> None:
        self._api("DELETE", f"/hub/api/users/{self.name}/server")

    def kernel(self, *, path: str, timeout: float = 300) -> Kernel:
        """A new kernel in this learner's server whose notebook is ``path`` (its folder is the kernel's)."""
        base = f"/user/{self.name}/api"
        made = self._api("POST", f"{base}/sessions",
                         json={"path": path, "type": "notebook", "kernel": {"name": "python3"}})
        made.raise_for_status()
        session_id, kernel_id = made.json()["id"], made.json()["kernel"]["id"]
        ws_url = self.url.replace("http://", "ws://", 1) + f"{base}/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        return Kernel(self, session_id, ws, Session(key=b"", username=self.name), timeout)

    def run(self, cells: list[str], *, path: str, timeout: float = 300) -> list[CellResult]:
        """Run ``cells`` in order in a new kernel (see :meth:`kernel`), which is shut down afterwards."""
        with self.kernel(path=path, timeout=timeout) as kernel:
            return kernel.run(cells)


@dataclass
class Kernel:
    """A kernel of a learner's server, reached through its websocket; use it as a context manager."""

    learner: Learner
    session_id: str
    ws: Any
    messages: Session
    timeout: float

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.ws.close()
        self.learner._api("DELETE", f"/user/{self.learner.name}/api/sessions/{self.session_id}")

    def run(self, cells: list[str]) -> list[CellResult]:
        return [self._execute(self.ws, self.messages, cell, self.timeout) for cell in cells]

    @staticmethod
    def _execute(ws: Any, messages: Session, code: str, timeout: float) -> CellResult:
        request = messages.msg("execute_request", content={"code": code, "silent": False, "store_history": True,
                                                           "allow_stdin": False, "stop_on_error": True})
        request["channel"] = "shell"
        ws.send(json.dumps(request, default=str))
        msg_id = request["header"]["msg_id"]
        text: list[str] = []
        status, error, idle, replied = "ok", "", False, False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            if time.monotonic() > deadline:
                return CellResult(code, "timeout", "".join(text), f"no answer within {timeout:.0f} s")
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                text.append(str(content["data"].get("text/plain", "")) + "\n")
            elif kind == "error":
                status, error = "error", f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                replied = True
                status = "ok" if content["status"] == "ok" else "error"
                if content["status"] != "ok" and not error:
                    error = f"{content.get('ename', '')}: {content.get('evalue', '')}"
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        return CellResult(code, status, "".join(text), error)


def notebook_cells(notebook: dict[str, Any]) -> list[str]:
    """The code cells' sources of a notebook (its JSON), in order."""
    return ["".join(cell["source"]) if isinstance(cell["source"], list) else str(cell["source"])
            for cell in notebook["cells"] if cell["cell_type"] == "code"]
