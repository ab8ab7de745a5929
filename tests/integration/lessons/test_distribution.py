"""lessons.distribution against the real wheels and BuildKit: the context builds, runs and is reproducible."""

from __future__ import annotations

import io
import tarfile

import docker.errors

from portside import engine
from portside.base.labels import course_labels
from portside.engine.build import build
from portside.lessons import sample_app
from portside.lessons.distribution import app_context

DOCKERFILE = """\
FROM python:3.11-slim-bookworm AS build
COPY wheels/ /wheels/
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv --without-pip /opt/venv \\
 && python3 -m pip --python /opt/venv/bin/python install --no-index --find-links /wheels --no-cache-dir \\
        --require-hashes -r /tmp/requirements.txt
FROM python:3.11-slim-bookworm
COPY --from=build /opt/venv /opt/venv
COPY app.py /app/app.py
ENV PATH=/opt/venv/bin:$PATH GIT_PYTHON_REFRESH=quiet
CMD ["python", "/app/app.py"]
"""


def test_the_context_is_the_same_bytes_each_time_and_pins_every_wheel_by_hash() -> None:
    first = app_context(DOCKERFILE)
    assert first == app_context(DOCKERFILE)
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        names = tar.getnames()
        requirements = tar.extractfile("requirements.txt").read().decode()  # type: ignore[union-attr]
    pins = sample_app.pins(sample_app.requirements_file("fixed"))
    assert len([n for n in names if n.startswith("wheels/")]) == len(pins)
    assert all(" --hash=sha256:" in line for line in requirements.splitlines())


def test_an_offline_multi_stage_build_of_the_context_runs_the_app() -> None:
    tag = "portside-test/distribution:multi"
    build(app_context(DOCKERFILE), tag=tag, labels=course_labels("test"), network="none")
    try:
        out = engine.client().containers.run(tag, remove=True, network_mode="none").decode()
        assert out.startswith("pyapp: GitPython 3.1.45, httpx 0.28.1")
    finally:
        try:
            engine.client().images.remove(tag)
        except docker.errors.APIError:
            pass
