"""Seed the room with the course images under ``course/``, so a room of learners pulls from it, not the internet.

Each course image present on this engine (:data:`portside.setup.images.CATALOGUE`) is tagged
``ROOM/course/NAME:TAG`` and pushed as the instructor (credentials passed to the push, not saved in any
config). Its local room tag is removed afterwards: the engine keeps one name per image.
"""

from __future__ import annotations

import docker.errors

from portside.engine import transfer
from portside.engine.daemon import client as docker_client
from portside.oci.reference import parse
from portside.room.policy import COURSE_NAMESPACE, INSTRUCTOR
from portside.room.room import Room
from portside.setup.images import CATALOGUE

__all__ = ["course_reference", "seed_course_images"]


def course_reference(room: Room, image: str) -> str:
    """``localhost:PORT/course/busybox:1.35`` for the course image ``busybox:1.35``."""
    ref = parse(image)
    name = ref.repository.split("/")[-1]
    return room.endpoint.ref(f"{COURSE_NAMESPACE}/{name}", ref.tag or "latest")


def seed_course_images(room: Room) -> list[str]:
    """Push every course image this engine has into the room; returns the room references pushed."""
    instructor = room.accounts.get(INSTRUCTOR)
    images = docker_client().images
    pushed = []
    for name in CATALOGUE:
        try:
            images.get(name)
        except docker.errors.ImageNotFound:
            continue
        target = course_reference(room, name)
        transfer.tag(name, target)
        try:
            transfer.push(target, username=instructor.name, password=instructor.password, progress=False)
        finally:
            try:
                images.remove(target, noprune=True)
            except docker.errors.NotFound:
                pass
        pushed.append(target.split("/", 1)[1])
    return pushed
