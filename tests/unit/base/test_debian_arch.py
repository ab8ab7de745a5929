"""base.debian's architecture option: apt's options for a foreign architecture, and which cached .deb counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.base import debian
from portside.errors import UsageError

ARM = Path("busybox-static_1%3a1.35.0-4+deb12u1+b1_arm64.deb")
AMD = Path("busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb")
ALL = Path("ca-certificates_20250419~deb12u2_all.deb")


def test_the_machine_s_own_architecture_adds_no_option() -> None:
    assert debian.architecture_options(None) == []


def test_a_foreign_architecture_is_both_apt_s_native_and_only_architecture() -> None:
    assert debian.architecture_options("arm64") == ["-o", "APT::Architecture=arm64",
                                                    "-o", "APT::Architectures=arm64"]


@pytest.mark.parametrize("bad", ["ARM64", "arm64 -o Dir=/", "", "linux/arm64"])
def test_a_name_that_is_no_debian_architecture_is_refused_before_apt_runs(bad: str) -> None:
    with pytest.raises(UsageError, match="not a Debian architecture name"):
        debian.architecture_options(bad)


def test_each_foreign_architecture_has_a_private_state_of_its_own() -> None:
    assert debian._state_name("bookworm", None) == "bookworm"
    assert debian._state_name("bookworm", "arm64") == "bookworm-arm64"


def test_the_package_and_architecture_are_read_off_apt_s_file_name() -> None:
    assert debian.deb_architecture(ARM) == ("busybox-static", "arm64")
    assert debian.deb_architecture(ALL) == ("ca-certificates", "all")


def test_a_cached_deb_of_another_architecture_does_not_count() -> None:
    assert debian.pick_debs([AMD, ALL], arch="arm64") == {"ca-certificates": ALL}
    assert debian.pick_debs([AMD, ARM, ALL], arch="arm64") == {"busybox-static": ARM, "ca-certificates": ALL}


def test_without_an_architecture_any_cached_deb_counts_as_before() -> None:
    assert debian.pick_debs([AMD, ALL], arch=None) == {"busybox-static": AMD, "ca-certificates": ALL}
