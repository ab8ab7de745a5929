"""Layer 5, the registry: a ``registry:2`` container (testcontainers), looking after it, and the requests it received.

The names below come from :mod:`portside.registry.container`; :mod:`~portside.registry.admin` and
:mod:`~portside.registry.request_log` load when imported.
"""

from .container import (
    HTPASSWD_PATH,
    THROWAWAY_BCRYPT_ROUNDS,
    Registry,
    RegistryReady,
    configure_testcontainers,
    docker_login,
    docker_logout,
    htpasswd,
    readable_log,
)

__all__ = ["HTPASSWD_PATH", "THROWAWAY_BCRYPT_ROUNDS", "Registry", "RegistryReady", "configure_testcontainers",
           "docker_login", "docker_logout", "htpasswd", "readable_log"]
