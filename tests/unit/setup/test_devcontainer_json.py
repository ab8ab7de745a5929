"""``.devcontainer/devcontainer.json``, checked against the rules of the Dev Container spec for the keys it uses.

The spec's JSON schema (``schemas/devContainer.base.schema.json`` of github.com/devcontainers/spec) cannot be
downloaded here, so the keys the course relies on are checked one by one with the schema's own rules (types,
patterns, enums); its post-create command runs in the course image in
``tests/integration/setup/test_course_image.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from portside.cli.course import start
from portside.setup.course_image import pinned_base

ROOT = Path(__file__).resolve().parents[3]
CONFIG: dict[str, Any] = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8"))

#: top-level properties of the spec's schema (devContainerCommon, nonComposeBase, imageContainer) the file may use
KNOWN = {"name", "image", "build", "features", "forwardPorts", "portsAttributes", "postCreateCommand", "remoteUser",
         "containerUser", "containerEnv", "remoteEnv", "hostRequirements", "customizations", "runArgs", "mounts",
         "onCreateCommand", "updateContentCommand", "postStartCommand", "postAttachCommand", "workspaceFolder"}
_SIZE = re.compile(r"^\d+([tgmk]b)?$")  # the schema's pattern for hostRequirements memory and storage
_ON_AUTO_FORWARD = {"notify", "openBrowser", "openBrowserOnce", "openPreview", "silent", "ignore"}


def test_only_properties_the_spec_defines() -> None:
    assert set(CONFIG) <= KNOWN, sorted(set(CONFIG) - KNOWN)
    assert isinstance(CONFIG["name"], str) and CONFIG["name"]


def test_the_image_matches_the_course_images_python_and_debian() -> None:
    """The Microsoft image and the course image's base are both Python 3.11 on Debian 12 (bookworm): that is what
    makes the course image a fair stand-in for it when the post-create command is tested."""
    image = CONFIG["image"]
    assert image.startswith("mcr.microsoft.com/devcontainers/python:")
    tag = image.rpartition(":")[2]
    name, _ = pinned_base()
    assert "3.11" in tag and "bookworm" in tag, tag
    assert name == "python:3.11-slim-bookworm"


def test_docker_in_docker_gives_the_container_its_own_engine() -> None:
    features = CONFIG["features"]
    found = [key for key in features if re.fullmatch(r"ghcr\.io/devcontainers/features/docker-in-docker:\d+", key)]
    assert found, sorted(features)
    assert isinstance(features[found[0]], dict)


def test_post_create_command_is_make_setup_and_the_makefile_has_it() -> None:
    assert CONFIG["postCreateCommand"] == "make setup"
    assert re.search(r"^setup:", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)


def test_forwarded_ports_include_jupyterlabs() -> None:
    ports = CONFIG["forwardPorts"]
    assert all(isinstance(port, int) and 0 <= port <= 65535 for port in ports), ports
    default = next(param.default for param in start.params if param.name == "port")
    assert default in ports  # `make start` (portside start) serves JupyterLab there
    for key, attributes in CONFIG.get("portsAttributes", {}).items():
        assert int(key) in ports
        assert attributes.get("onAutoForward", "notify") in _ON_AUTO_FORWARD


def test_host_requirements_follow_the_schema() -> None:
    wanted = CONFIG["hostRequirements"]
    assert set(wanted) <= {"cpus", "memory", "storage", "gpu"}
    assert isinstance(wanted["cpus"], int) and wanted["cpus"] >= 1
    assert _SIZE.match(wanted["memory"]) and _SIZE.match(wanted["storage"])


def test_remote_user_is_not_root_and_extensions_are_ids() -> None:
    assert CONFIG["remoteUser"] not in ("", "root")
    extensions = CONFIG["customizations"]["vscode"]["extensions"]
    assert extensions and all(re.fullmatch(r"[\w-]+\.[\w-]+", ext) for ext in extensions), extensions
