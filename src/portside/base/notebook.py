"""Jupyter niceties: Portside errors shown as one clear message, not a traceback."""

from __future__ import annotations

from typing import Any

from portside.errors import PortsideError

__all__ = ["install_error_handler"]


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
    return True
