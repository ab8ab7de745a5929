"""portside.base.proc.terminate: SIGTERM, a wait, then SIGKILL — on real processes."""

from __future__ import annotations

import subprocess
import sys
import time

from portside.base.proc import alive, terminate


def test_a_process_that_stops_on_sigterm_is_gone_and_reaped() -> None:
    child = subprocess.Popen(["sleep", "60"])
    assert alive(child.pid)
    start = time.monotonic()
    assert terminate(child.pid, timeout=10)
    assert time.monotonic() - start < 5  # gone at SIGTERM, not after the timeout
    assert not alive(child.pid)


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                                 "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    start = time.monotonic()
    assert terminate(stubborn.pid, timeout=1)
    assert time.monotonic() - start >= 1
    assert not alive(stubborn.pid)
    stubborn.stdout.close()


def test_a_pid_that_does_not_run_is_reported() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    assert not alive(child.pid)
    assert not terminate(child.pid)
