"""DockerSpawner, with a Docker Engine of the learner's own: what the hub starts for each learner.

Each server is a course-image container (with JupyterHub's single-user server added, see :mod:`.image`) on
the course's engine, like ``portside.setup.course_image.run`` starts it: the host's network (the course's
registries listen on ``127.0.0.1``) and an engine socket at ``/var/run/docker.sock`` with that socket's group.
The socket is the learner's own engine's (:mod:`.engines`), started before the container and stopped after
it, never the course engine's: a learner's ``docker ps`` shows their containers and nobody else's.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from dockerspawner import DockerSpawner
from traitlets import Int, List, Unicode

from portside.base.labels import course_labels
from portside.registry.ports import free_port
from portside.workshop.hub import engines

__all__ = ["LearnerSpawner"]

#: the kind label of a learner's server container
KIND = "hub-server"


class LearnerSpawner(DockerSpawner):  # type: ignore[misc]
    """One course-image server per learner, on the host network, with the learner's own engine."""

    seed_images = List(Unicode(), help="images copied from the course engine into each learner's engine").tag(
        config=True)
    learner_index = Int(0, help="fixed index for a user (tests); 0: from the name learner-NN, else the user id")

    def _index(self) -> int:
        name = str(self.user.name)
        if name.startswith("learner-") and name[8:].isdigit():
            return int(name[8:])
        return 90 + int(self.user.id) % 10  # the instructor and other accounts: 90-99

    async def start(self) -> Any:
        engine = engines.engine_for(str(self.user.name), self._index())
        await asyncio.to_thread(engines.start, engine)
        await asyncio.to_thread(engines.seed, engine, list(self.seed_images))
        self.port = free_port()
        self.volumes = {str(engine.socket): {"bind": "/var/run/docker.sock", "mode": "rw"}}
        self.extra_host_config = {"group_add": [str(engine.gid)]}
        self.extra_create_kwargs = {"labels": course_labels(KIND, learner=str(self.user.name))}
        return await super().start()

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        # the harness inside: the learner's namespace, below this hub's session (its labels stay attributable)
        session = os.environ.get("PORTSIDE_SESSION")
        env["PORTSIDE_NAMESPACE"] = str(self.user.name)
        if session:
            env["PORTSIDE_SESSION"] = f"{session}-{self.user.name}"
        env["DOCKER_HOST"] = "unix:///var/run/docker.sock"
        return env

    async def get_ip_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.port)  # the host's network: the server listens on the host's loopback

    async def stop(self, now: bool = False) -> None:
        try:
            await super().stop(now=now)
        finally:
            engine = engines.engine_for(str(self.user.name), self._index())
            await asyncio.to_thread(engines.stop, engine)
