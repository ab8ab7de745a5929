"""A room server on JupyterHub: one course-image server per learner, each with a Docker Engine of its own.

:mod:`.engines` (the learners' engines), :mod:`.auth` (the room's accounts as a JupyterHub authenticator),
:mod:`.spawner` (DockerSpawner with a learner's engine), :mod:`.image` (the course image plus JupyterHub),
:mod:`.hub` (configuration, the proxy, up and down). See docs/hub.md.
"""
