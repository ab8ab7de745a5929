"""``portside workshop up|sheet|status|down`` as an instructor types them: the entry point, one process each
(the room outlives the command that started it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from portside.room import room as rooms

ENTRY_POINT = shutil.which("portside", path=str(Path(sys.executable).parent))


def portside(*args: str) -> subprocess.CompletedProcess[str]:
    assert ENTRY_POINT is not None, "the `portside` entry point is not installed next to this Python"
    return subprocess.run([ENTRY_POINT, *args], capture_output=True, text=True, timeout=300, check=False)


def test_up_sheet_status_down() -> None:
    up = portside("workshop", "up", "--learners", "2")
    try:
        assert up.returncode == 0, up.stderr
        room = rooms.current()
        assert f"registry {room.address}" in up.stdout and "2 learners" in up.stdout
        assert "Seeded 4 course image(s)" in up.stdout and "course/busybox:1.35" in up.stdout
        for account in room.accounts.all():
            assert account.password not in up.stdout + up.stderr  # the sheet has them, the terminal does not
        assert room.status().healthy  # the token service outlived the command that started it
        sheet = portside("workshop", "sheet")
        assert sheet.returncode == 0 and "index.html" in sheet.stdout
        status = portside("workshop", "status")
        assert status.returncode == 0, status.stderr
        assert "registry running, token service answering" in status.stdout
        assert status.stdout.count("(no check reported yet)") == 4  # 2 learners × the 2 room labs
        csv = portside("workshop", "status", "--format", "csv")
        assert csv.stdout.splitlines()[0].startswith("learner,lab,done,tasks")
        again = portside("workshop", "up", "--learners", "2")
        assert again.returncode == 2 and "already up" in again.stderr and "Traceback" not in again.stderr
    finally:
        down = portside("workshop", "down")
    assert down.returncode == 0 and "the token service" in down.stdout
    assert "No room was up." in portside("workshop", "down").stdout
    gone = portside("workshop", "status")
    assert gone.returncode == 2 and "No workshop room is up" in gone.stderr


def test_a_bad_listen_address_or_lifetime_is_a_clear_error() -> None:
    bad = portside("workshop", "up", "--learners", "2", "--token-ttl", "5")
    assert bad.returncode == 2 and "--token-ttl 30..3600" in bad.stderr
    assert "Traceback" not in bad.stderr
    elsewhere = portside("workshop", "up", "--learners", "2", "--listen", "192.0.2.123")
    assert elsewhere.returncode == 2 and "not an address of this machine" in elsewhere.stderr
    assert "No room was up." in portside("workshop", "down").stdout
