"""portside.engine.buildcache: the machine-wide lock (no engine; a lock file of the test's own)."""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

import pytest

from portside.engine.buildcache import LOCK, exclusive


def _free(lock: Path) -> bool:
    """Take ``lock`` without waiting, through a second open file (as another process would); True if it was free."""
    with open(lock, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_the_lock_is_machine_wide() -> None:
    """One file in the system's temporary folder, whatever the checkout or its state folder."""
    assert LOCK.parent == Path(tempfile.gettempdir()) / "portside-locks"


def test_exclusive_holds_the_lock_until_the_block_ends(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "build.lock"
    with exclusive(lock):
        assert not _free(lock)
    assert _free(lock)


def test_exclusive_lets_go_when_the_block_raises(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    with pytest.raises(RuntimeError, match="a failed build"), exclusive(lock):
        raise RuntimeError("a failed build")
    assert _free(lock)
