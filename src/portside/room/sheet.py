"""The credentials sheet: one printable page for the instructor, one small file per learner.

``sheet/index.html`` is a table to print and cut into strips (account, password, the login command);
``sheet/learner-NN.txt`` is the same for one learner, to hand out as a file. Both are in the room's state
folder (mode 0700, files 0600) and go with ``portside workshop down``. A password is written only here:
never to a terminal or a notebook.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from portside.room.accounts import Account
from portside.room.room import Room

__all__ = ["learner_text", "write_sheet"]


def _client_setup(room: Room) -> str:
    s = room.settings
    if not s.tls:
        return ""
    return (f"\nThe room serves TLS from the course CA. Trust it once (as root), for Docker Engine:\n"
            f"  mkdir -p /etc/docker/certs.d/{s.registry_address}\n"
            f"  cp ca.crt /etc/docker/certs.d/{s.registry_address}/ca.crt\n"
            f"For crane, cosign and other Go tools: SSL_CERT_FILE=/path/to/ca.crt (it replaces the system's\n"
            f"trust store for that command). For labs: portside lab start … --ca-file /path/to/ca.crt\n"
            f"(Docker Desktop: put ca.crt in ~/.docker/certs.d/{s.registry_address}/ and restart it.)\n")


def learner_text(room: Room, account: Account) -> str:
    """The file handed to one learner (it holds their password)."""
    s = room.settings
    namespace = account.namespace or "any namespace"
    return (f"Portside workshop room\n"
            f"======================\n"
            f"Registry:  {s.registry_address}\n"
            f"Account:   {account.name}\n"
            f"Password:  {account.password}\n"
            f"You push under {s.registry_address}/{namespace}/… and pull the course images from "
            f"{s.registry_address}/course/….\n\n"
            f"Log in (the password goes on standard input, never on the command line):\n"
            f"  docker login {s.registry_address} --username {account.name} --password-stdin < password.txt\n\n"
            f"Run a lab in the room instead of on a registry of its own (it asks for the password):\n"
            f"  portside lab start 00-first-push --room {s.registry_address} --user {account.name}\n"
            f"or in the lab's notebook: portside.labs.start('00-first-push', room='{s.registry_address}', "
            f"user='{account.name}', password=...)\n"
            f"{_client_setup(room)}")


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def write_sheet(room: Room) -> Path:
    """Write the sheet and the learners' files; returns the sheet's folder."""
    folder = room.folder / "sheet"
    folder.mkdir(mode=0o700, exist_ok=True)
    accounts = room.accounts.all()
    rows = "\n".join(
        f"<tr><td>{html.escape(a.name)}</td><td><code>{html.escape(a.password)}</code></td>"
        f"<td><code>docker login {html.escape(room.address)} -u {html.escape(a.name)} --password-stdin</code></td></tr>"
        for a in accounts)
    page = (f"<!doctype html><meta charset='utf-8'><title>Portside room {html.escape(room.address)}</title>"
            f"<style>body{{font-family:sans-serif}}td,th{{border:1px dashed #999;padding:.6em}}"
            f"table{{border-collapse:collapse}}</style>"
            f"<h1>Portside workshop room</h1><p>Registry <code>{html.escape(room.address)}</code>, "
            f"{room.settings.learners} learners. Cut along the dashed lines.</p>"
            f"<table><tr><th>account</th><th>password</th><th>log in</th></tr>{rows}</table>")
    _write(folder / "index.html", page)
    for account in accounts:
        _write(folder / f"{account.name}.txt", learner_text(room, account))
    if room.ca_file is not None:
        (folder / "ca.crt").write_bytes(room.ca_file.read_bytes())
    return folder
