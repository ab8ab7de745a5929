"""Where things are inside a ``registry:2`` container: its port, configuration, data, and the files the course adds."""

from __future__ import annotations

__all__ = ["CERT_PATH", "CONFIG_PATH", "CONTAINER_PORT", "DATA_PATH", "HTPASSWD_PATH", "KEY_PATH", "REALM", "STORE"]

#: the port registry:2 listens on inside its container
CONTAINER_PORT = 5000
#: its configuration file (``registry garbage-collect`` reads it too)
CONFIG_PATH = "/etc/docker/registry/config.yml"
#: where it stores blobs and repositories (a volume)
DATA_PATH = "/var/lib/registry"
#: the storage driver's tree under :data:`DATA_PATH`
STORE = f"{DATA_PATH}/docker/registry/v2"
#: the users file the course copies in when a registry has users
HTPASSWD_PATH = "/auth/htpasswd"
#: the server certificate and key the course copies in with ``tls=True``
CERT_PATH, KEY_PATH = "/certs/server.crt", "/certs/server.key"
#: the realm a login prompt names
REALM = "Portside registry"
