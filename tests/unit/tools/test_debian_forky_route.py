"""The private apt route for Debian's rolling suites (cosign 3 comes from forky), without touching the network.

Debian testing (forky) and unstable (sid) publish an ``InRelease`` that is valid for a week; a
frozen or lagging mirror serves one whose ``Valid-Until`` has passed (forky's of 2026-10-30 was
valid until 2026-11-06). For those suites only, apt is told not to check that date; everything
that makes the index trustworthy (the signature, no insecure or weak repositories, no
unauthenticated packages) stays. sid has no -updates or -security suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.base import debian
from portside.errors import SetupError, UsageError

SAFETY = ("Acquire::AllowInsecureRepositories=false", "Acquire::AllowDowngradeToInsecureRepositories=false",
          "Acquire::AllowWeakRepositories=false", "APT::Get::AllowUnauthenticated=false")


@pytest.fixture(autouse=True)
def _debian_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's apt sources must name a Debian archive; the private apt state goes to a temporary folder."""
    try:
        debian.mirror_for("debian")
    except SetupError:
        pytest.skip("this machine's apt sources name no Debian archive")
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path))


def _options(suite: str) -> list[str]:
    options = debian._apt_options(suite)
    return [options[i + 1] for i, flag in enumerate(options) if flag == "-o"]


def test_only_rolling_suites_skip_the_valid_until_check() -> None:
    assert debian.is_rolling("forky") and debian.is_rolling("sid") and debian.is_rolling("testing")
    assert not debian.is_rolling("trixie") and not debian.is_rolling("bookworm")
    assert "Acquire::Check-Valid-Until=false" in _options("forky")
    assert "Acquire::Check-Valid-Until=false" in _options("sid")
    for released in ("trixie", "bookworm"):
        assert not any(option.startswith("Acquire::Check-Valid-Until") for option in _options(released))


@pytest.mark.parametrize("suite", ["forky", "sid", "trixie"])
def test_signatures_are_still_required(suite: str) -> None:
    options = _options(suite)
    for option in SAFETY:
        assert option in options
    sources = debian.suite_sources_line(suite)
    assert "trusted=yes" not in sources and "allow-insecure" not in sources
    if Path("/usr/share/keyrings/debian-archive-keyring.gpg").exists():
        assert all("[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" in line
                   for line in sources.splitlines())


def test_which_suites_come_with_updates_and_security() -> None:
    main = debian.mirror_for("debian")
    sid = debian.suite_sources_line("sid").splitlines()
    assert len(sid) == 1 and sid[0].endswith(f"{main} sid main")
    forky = debian.suite_sources_line("forky").splitlines()
    assert forky[0].endswith(f"{main} forky main") and forky[1].endswith(f"{main} forky-updates main")
    assert all(" forky" in line for line in forky)


def test_each_suite_keeps_its_own_private_state(tmp_path: Path) -> None:
    debian._apt_options("forky")
    written = (tmp_path / "apt" / "forky" / "etc" / "sources.list").read_text()
    assert written == debian.suite_sources_line("forky")
    assert not (tmp_path / "apt" / "trixie").exists()


def test_a_caller_moves_only_apts_places_never_its_checks(tmp_path: Path) -> None:
    """``apt_options(places=…)``: the course image plans against its base's package database this way."""
    with pytest.raises(UsageError, match="moves only apt's Dir:: items, not Acquire::AllowInsecureRepositories"):
        debian.apt_options("trixie", places={"Acquire::AllowInsecureRepositories": "true"})
    (tmp_path / "apt" / "trixie").mkdir(parents=True)
    (tmp_path / "apt" / "trixie" / "updated").touch()   # indexes fresh: no `apt-get update`, no network
    options = debian.apt_options("trixie", places={"Dir::State::status": tmp_path / "status"})
    assert options[-2:] == ["-o", f"Dir::State::status={tmp_path / 'status'}"]   # after the state's own: it wins
    assert all(option in options for option in SAFETY)
