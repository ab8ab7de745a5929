"""Host ports for a registry: a free one on 127.0.0.1, whether one is free, and the error when it is not."""

from __future__ import annotations

import socket

from portside.errors import PortInUse

__all__ = ["free_port", "port_in_use", "port_is_free"]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now (the engine may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``port`` on ``host`` (127.0.0.1) can be bound now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_in_use(port: int) -> PortInUse:
    """The error for a registry that cannot listen on ``port``."""
    return PortInUse(f"Port {port} on 127.0.0.1 is already in use, so the registry cannot listen there.")
