"""The lessons as slides, for real: ``jupyter nbconvert --to slides`` renders every lesson as a reveal.js deck with
its speaker notes, ``portside present NN --html`` writes the same deck, and ``portside present NN --no-browser``
serves the lesson in JupyterLab's RISE and stops without leaving anything behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from portside.lessons import slides

BIN = Path(sys.executable).parent
ENTRY_POINT = shutil.which("portside", path=str(BIN))
JUPYTER = shutil.which("jupyter", path=str(BIN))
LESSONS = slides.lessons()


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every lesson through the real ``jupyter nbconvert --to slides`` (one run for all eight)."""
    assert JUPYTER is not None, "jupyter is not installed next to this Python"
    out = tmp_path_factory.mktemp("slides")
    done = subprocess.run([JUPYTER, "nbconvert", "--to", "slides", "--output-dir", str(out), *map(str, LESSONS)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _sections(html: str) -> int:
    return html.count("<section")


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.name[:2])
def test_nbconvert_renders_each_lesson_as_slides(decks: Path, path: Path) -> None:
    """One ``<section>`` per slide around one per (sub)slide, the live cells as fragments, the notes as notes."""
    html = (decks / f"{path.stem}.slides.html").read_text(encoding="utf-8")
    deck = slides.deck(path)
    assert _sections(html) == 2 * deck.slides + deck.subslides, str(deck)
    assert html.count('class="fragment"') == deck.types.count("fragment")
    assert html.count('<aside class="notes">') == deck.notes >= 1
    assert "Speaker notes." in html.split('<aside class="notes">', 1)[1].split("</aside>", 1)[0]
    assert "RevealNotes" in html  # the reveal.js plugin behind the S key


def test_present_html_uses_the_lesson_settings_and_a_given_reveal(tmp_path: Path) -> None:
    """``portside present 03 --html`` writes the deck with the lesson's theme and the reveal.js it is pointed at."""
    assert ENTRY_POINT is not None
    done = subprocess.run([ENTRY_POINT, "present", "03", "--html", str(tmp_path), "--reveal-url", "reveal"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "03-private-registry.slides.html"
    assert f"Wrote {written}:" in done.stdout
    html = written.read_text(encoding="utf-8")
    deck = slides.deck(slides.lesson_path("03"))
    assert _sections(html) == 2 * deck.slides + deck.subslides
    assert 'href="reveal/dist/theme/simple.css"' in html and "unpkg.com/reveal.js" not in html
    assert 'transition: "none"' in html


def test_present_with_no_lesson_is_one_line_and_exit_2() -> None:
    """A lesson that does not exist: one ``error:`` line naming the lessons, exit 2, no traceback."""
    assert ENTRY_POINT is not None
    done = subprocess.run([ENTRY_POINT, "present", "42"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "no lesson '42'" in done.stderr and "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_present_serves_the_lesson_in_rise_and_stops(tmp_path: Path) -> None:
    """``portside present 00 --no-browser`` answers at ``/rise/notebooks/00-setup.ipynb``, starts no kernel by
    itself, and stops cleanly when told to, freeing its port."""
    assert ENTRY_POINT is not None
    port, token = _free_port(), "portside-slides-test"
    env = {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}  # no news prompt or workspace of the user's
    server = subprocess.Popen([ENTRY_POINT, "present", "00", "--no-browser", f"--port={port}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    head: list[str] = []  # what `portside present` prints before it becomes JupyterLab
    try:
        assert server.stdout is not None
        for line in server.stdout:
            head.append(line)
            if line.startswith("Shift-Enter runs a cell live"):
                break
        deadline = time.monotonic() + 60
        while True:
            try:
                page = requests.get(f"{base}/rise/notebooks/00-setup.ipynb", headers=headers, timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.communicate()[0][-3000:]
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.5)
        assert page.status_code == 200
        assert "rise" in page.text.lower() and "00-setup.ipynb" in page.text
        printed = next(line for line in head if line.startswith("The slides: ")).split()[-1]
        assert printed == f"{base}/rise/notebooks/00-setup.ipynb?token={token}"
        assert requests.get(printed, timeout=10).status_code == 200  # the printed URL alone lets one in
        lesson = requests.get(f"{base}/api/contents/notebooks/00-setup.ipynb", headers=headers, timeout=10)
        assert lesson.status_code == 200
        assert lesson.json()["content"]["metadata"]["rise"] == slides.RISE
        assert requests.get(f"{base}/api/kernels", headers=headers, timeout=10).json() == []
    finally:
        server.send_signal(signal.SIGTERM)  # a clean stop (a double Ctrl-C skips the clean-up of its files)
        try:
            output = server.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert server.returncode == 0, output[-3000:]
    assert head[0].strip() == str(slides.deck(LESSONS[0])) and "Traceback" not in output
    assert not list((tmp_path / "runtime").glob("jpserver-*")), "JupyterLab left its server files behind"
    with pytest.raises(requests.ConnectionError):
        requests.get(base, timeout=5)
