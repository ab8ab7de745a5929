"""Jupyter niceties: Portside errors shown as one clear message, not a traceback."""

from __future__ import annotations

from typing import Any

from portside.errors import PortsideError

__all__ = ["install_error_handler", "prepare_shell"]


def _show_portside_error(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                         tb_offset: int | None = None) -> list[str]:
    lines = [f"\x1b[31m{etype.__name__}\x1b[0m: {value}"]
    shell._showtraceback(etype, value, lines)
    return lines


def install_error_handler() -> bool:
    """In IPython/Jupyter, show :class:`PortsideError` as its message only. Returns True if installed."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((PortsideError,), _show_portside_error)
    prepare_shell()
    return True


def prepare_shell() -> None:
    """Let a notebook's ``!docker …``, ``!cosign …``, ``!crane …`` lines run the course's tools and engine.

    The course's tools folder goes first on ``PATH`` (the docker CLI of the course's engine is linked there),
    and ``DOCKER_CONFIG`` points at the course's own client configuration, so a shell line never reads or
    writes the learner's ``~/.docker``.
    """
    import os

    from portside.base.paths import isolate_docker_config, state_dir

    isolate_docker_config()
    folder = str(state_dir("tools", "bin"))
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if folder not in parts:
        os.environ["PATH"] = os.pathsep.join([folder, *parts])
