"""Version matching on the edge cases, with each ecosystem's own library (packaging, python-debian)."""

from __future__ import annotations

import pytest

from portside.security.advisories import Affected, Event, Range
from portside.security.scan.versions import UnsupportedVersion, affected_by, compare, normalize_name, version_key


def _range(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> Range:
    return Range(kind, tuple(Event(k, v) for k, v in events))


def pypi(*ranges: Range, versions: tuple[str, ...] = ()) -> Affected:
    return Affected("PyPI", "demo", ranges, versions)


def debian(*ranges: Range, versions: tuple[str, ...] = ()) -> Affected:
    return Affected("Debian:12", "demo", ranges, versions)


@pytest.mark.parametrize(("a", "b", "order"), [
    ("1.0rc1", "1.0", -1),            # pre-release before release
    ("1.0.dev1", "1.0a1", -1),        # dev before alpha
    ("1.0", "1.0.post1", -1),         # post-release after
    ("1!0.5", "2.0", 1),              # epoch wins
    ("2015.04.28", "2015.4.28", 0),   # leading zeros do not count
    ("0.2.0-beta1", "0.2.0b1", 0),    # normalised spelling
    ("3.1.10", "3.1.9", 1),           # numbers compare as numbers
])
def test_pep440_order(a: str, b: str, order: int) -> None:
    """PEP 440 order as packaging implements it."""
    assert compare("PyPI", a, b) == order


@pytest.mark.parametrize(("a", "b", "order"), [
    ("1.0~rc1-1", "1.0-1", -1),                 # ~ sorts before everything, even the end
    ("1.0-1", "1.0-1~bpo12+1", 1),              # a backport sorts below the release it backports
    ("1:1.0-1", "2.0-1", 1),                    # epoch wins
    ("2.36-9+deb12u4", "2.36-9+deb12u10", -1),  # numbers compare as numbers
    ("9.1-1", "9.1-1", 0),
    ("1.34+dfsg-1.2+deb12u1", "1.34+dfsg-1.2", 1),
])
def test_dpkg_order(a: str, b: str, order: int) -> None:
    """dpkg order as python-debian implements it."""
    assert compare("Debian:12", a, b) == order


def test_zero_is_below_everything_and_bad_versions_are_refused() -> None:
    """OSV's introduced "0" sorts first in any ecosystem; an unparsable version raises UnsupportedVersion."""
    assert version_key("PyPI", "0") < version_key("PyPI", "0.0.0.dev0")
    assert version_key("Debian", "0") < version_key("Debian", "0~~")
    with pytest.raises(UnsupportedVersion):
        version_key("PyPI", "not a version!")
    with pytest.raises(UnsupportedVersion):
        version_key("npm", "1.0.0")


def test_introduced_fixed_range() -> None:
    """[introduced, fixed): the fixed version itself and later are safe; the fix is reported."""
    affected = pypi(_range(("introduced", "1.0"), ("fixed", "1.5")))
    assert affected_by(affected, "0.9") == (False, None)
    assert affected_by(affected, "1.0") == (True, "1.5")
    assert affected_by(affected, "1.5rc1") == (True, "1.5")  # a pre-release of the fix is still affected
    assert affected_by(affected, "1.5") == (False, None)
    assert affected_by(affected, "1.5.post1") == (False, None)


def test_last_affected_includes_that_version() -> None:
    """last_affected switches off *after* the version; no fixed version is known."""
    affected = pypi(_range(("introduced", "0"), ("last_affected", "2.0")))
    assert affected_by(affected, "2.0") == (True, None)
    assert affected_by(affected, "2.0.post1") == (False, None)


def test_several_intervals_in_one_range() -> None:
    """introduced/fixed pairs in any order of writing are read in version order."""
    affected = pypi(_range(("fixed", "2.4.1"), ("introduced", "1.0"), ("introduced", "2.0"), ("fixed", "1.2.3")))
    assert affected_by(affected, "1.1") == (True, "1.2.3")
    assert affected_by(affected, "1.5") == (False, None)
    assert affected_by(affected, "2.4") == (True, "2.4.1")
    assert affected_by(affected, "3.0") == (False, None)


def test_explicit_versions_list() -> None:
    """A version listed explicitly is affected even with no range; PEP 440 equality applies to the list."""
    affected = pypi(versions=("2015.04.28", "3.1.29"))
    assert affected_by(affected, "2015.4.28") == (True, None)
    assert affected_by(affected, "3.1.29") == (True, None)
    assert affected_by(affected, "3.1.30") == (False, None)


def test_pypi_date_versions_with_leading_zeros() -> None:
    """certifi: GHSA-43fp says fixed 2022.12.07, the installed 2022.12.7 is that same version."""
    affected = pypi(_range(("introduced", "2017.11.05"), ("fixed", "2022.12.07")))
    assert affected_by(affected, "2022.12.7") == (False, None)
    assert affected_by(affected, "2022.9.24") == (True, "2022.12.07")


def test_debian_unfixed_record_affects_every_version() -> None:
    """Debian's unfixed issues: introduced 0 and no fix — affected, fixed None."""
    affected = debian(_range(("introduced", "0")))
    assert affected_by(affected, "9.1-1") == (True, None)
    assert affected_by(affected, "1:0.1~rc1-0+deb12u1") == (True, None)


def test_debian_tilde_and_security_updates() -> None:
    """glibc fixed in 2.36-9+deb12u3: deb12u2 affected, deb12u10 not (numeric), ~ release candidates affected."""
    affected = debian(_range(("introduced", "0"), ("fixed", "2.36-9+deb12u3")))
    assert affected_by(affected, "2.36-9+deb12u2") == (True, "2.36-9+deb12u3")
    assert affected_by(affected, "2.36-9+deb12u10") == (False, None)
    assert affected_by(affected, "2.36-9+deb12u3~rc1") == (True, "2.36-9+deb12u3")


def test_git_ranges_are_skipped_and_semver_ranges_use_semver() -> None:
    """GIT ranges name commits (never versions); SEMVER ranges compare with semver rules."""
    git = pypi(Range("GIT", (Event("introduced", "0"), Event("fixed", "ca965ec"))))
    assert affected_by(git, "1.0") == (False, None)
    sem = pypi(_range(("introduced", "1.0.0"), ("fixed", "1.2.0"), kind="SEMVER"))
    assert affected_by(sem, "1.1.9") == (True, "1.2.0")
    assert affected_by(sem, "1.2.0") == (False, None)


def test_unparsable_installed_version_only_matches_an_exact_listing() -> None:
    """An installed version the library cannot read is compared to the explicit list only, as text."""
    affected = pypi(_range(("introduced", "0")), versions=("weird_build!",))
    assert affected_by(affected, "weird_build!") == (True, None)
    assert affected_by(affected, "other_build!") == (False, None)


def test_names() -> None:
    """PyPI names per PEP 503; Debian names as they are."""
    assert normalize_name("PyPI", "GitPython") == normalize_name("PyPI", "gitpython")
    assert normalize_name("PyPI", "typing_extensions") == "typing-extensions"
    assert normalize_name("Debian:12", "libc6") == "libc6"
