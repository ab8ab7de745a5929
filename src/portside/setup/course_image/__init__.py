"""The course image: JupyterLab with the course, its harness and its tools, for a Docker engine outside the container.

::

    from portside.setup import course_image
    built = course_image.build()            # offline: BuildKit, --network none, from a context made here
    server = course_image.serve()           # JupyterLab in it on 127.0.0.1:PORT, against this engine
    print(server.url); server.container.remove(force=True)
    course_image.remove()                   # or `portside cleanup --images`

The Dockerfile is ``images/course/Dockerfile`` of the checkout (its README says how to run the image by hand).
Modules: :mod:`.image` (the pinned base, building, removing), :mod:`.context` (the build context: the course,
tools, docker CLI and their provenance), :mod:`.wheels` (the Python packages, locked by hash), :mod:`.debs`
(the Debian packages the base lacks), :mod:`.container` (running it Docker-outside-of-Docker, with the host's
network, and the doctor's check of that network).
"""

from __future__ import annotations

from portside.setup.course_image.container import IN_CONTAINER_SOCKET, Server, engine_socket, network_check, run, serve
from portside.setup.course_image.image import (
    KIND,
    TAG,
    Built,
    build,
    dockerfile,
    pinned_base,
    prepare,
    python_version,
    remove,
)

__all__ = ["IN_CONTAINER_SOCKET", "KIND", "TAG", "Built", "Server", "build", "dockerfile", "engine_socket",
           "network_check", "pinned_base", "prepare", "python_version", "remove", "run", "serve"]
