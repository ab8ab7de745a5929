"""The offline kit: the whole course in one folder a learner's machine installs from with no network.

::

    portside kit build OUT [--tar]        # the instructor, once (online or offline)
    sh OUT/install.sh [COURSE_DIR]        # a learner with Python and Docker but nothing else
    portside kit install OUT              # or, where Portside is already installed
    portside kit seed OUT ADDRESS …       # the room registry gets the course images under course/…

One job per module: :mod:`.manifest` (the format, and checking a kit against it), :mod:`.course` (the course's
own files), :mod:`.wheels` (the Python packages: gathered, locked by hash, installed with no index),
:mod:`.images` (``docker save``/``load`` by digest), :mod:`.tools` (the tools with their install records),
:mod:`.data` (Trivy's database, the demo app's wheels), :mod:`.files` (one checked copy), :mod:`.bootstrap`
(``install.sh``), :mod:`.build` and :mod:`.install` (the two commands), :mod:`.seed` (a registry from the kit).
"""

from __future__ import annotations

from portside.workshop.kit.build import BuildResult, build
from portside.workshop.kit.install import Installed, install
from portside.workshop.kit.manifest import FORMAT_VERSION, Manifest, read, verify
from portside.workshop.kit.seed import seed

__all__ = ["FORMAT_VERSION", "BuildResult", "Installed", "Manifest", "build", "install", "read", "seed", "verify"]
