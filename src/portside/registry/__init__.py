"""Layer 5, the registry: a ``registry:2`` container (testcontainers), looking after it, and the requests it received.

One module per job: :mod:`~portside.registry.container` (the :class:`Registry`),
:mod:`~portside.registry.htpasswd` (users files), :mod:`~portside.registry.ports`,
:mod:`~portside.registry.readiness`, :mod:`~portside.registry.logs`,
:mod:`~portside.registry.maintenance`, :mod:`~portside.registry.login`,
:mod:`~portside.registry.local_images`, :mod:`~portside.registry.layout` and
:mod:`~portside.registry.tc_adapter`. The names below come from them;
:mod:`~portside.registry.admin` and :mod:`~portside.registry.request_log` load when imported.
"""

from .container import Registry
from .htpasswd import THROWAWAY_BCRYPT_ROUNDS, htpasswd
from .layout import HTPASSWD_PATH
from .login import docker_login, docker_logout
from .logs import readable_log
from .readiness import RegistryReady
from .tc_adapter import configure_testcontainers

__all__ = ["HTPASSWD_PATH", "THROWAWAY_BCRYPT_ROUNDS", "Registry", "RegistryReady", "configure_testcontainers",
           "docker_login", "docker_logout", "htpasswd", "readable_log"]
