"""The layer rule, read from the import graph: a module imports only from its own layer or the layers below.

The layers are the folders of ``src/portside`` (ARCHITECTURE.md draws them). Every ``import`` and
``from … import`` in every module counts, those under ``if TYPE_CHECKING:`` and inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "portside"

#: bottom to top; ``errors`` is the one module every layer may raise from
LAYERS = ["errors", "base", "oci", "tools", "engine", "registry", "setup", "room", "security", "lessons", "pipeline",
          "labs", "workshop", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, source: str | None = None) -> set[str]:
    """The ``portside`` modules (or packages) one file imports, relative imports resolved."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source if source is not None else path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {name for name in found if name.startswith("portside.")}


def upward_imports(path: Path, source: str | None = None) -> list[str]:
    """The modules ``path`` imports from a layer above its own."""
    rank = LAYERS.index(layer(module_name(path)))
    known = {module_name(p) for p in MODULES}
    return sorted(m for m in imported(path, source) if m in known and LAYERS.index(layer(m)) > rank)


def layer(module: str) -> str:
    return module.split(".")[1]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "apps" not in p.relative_to(PACKAGE).parts)


def test_every_module_sits_in_a_layer() -> None:
    """Nothing lies loose beside the layer folders but the package's own ``__init__`` and ``errors``."""
    loose = {module_name(p) for p in MODULES if layer(module_name(p) + ".x") not in LAYERS}
    assert loose == {"portside"}, f"modules outside every layer: {sorted(loose - {'portside'})}"


@pytest.mark.parametrize("path", [p for p in MODULES if module_name(p) != "portside"], ids=module_name)
def test_imports_only_go_down(path: Path) -> None:
    """Each module imports from its own layer or one below it (``portside/__init__`` is the facade above all)."""
    assert not upward_imports(path), f"{module_name(path)} imports from a layer above it: {upward_imports(path)}"


def test_the_rule_sees_a_climbing_import() -> None:
    """A relative import that climbs, and an absolute one, are both caught: the check above can fail."""
    paths = PACKAGE / "base" / "paths.py"
    source = "from ..labs import session\nfrom portside.cli import main\nfrom .proc import run\n"
    assert upward_imports(paths, source) == ["portside.cli", "portside.cli.main", "portside.labs",
                                             "portside.labs.session"]
