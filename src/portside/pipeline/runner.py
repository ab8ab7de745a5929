"""The pipeline: seven steps, each callable on its own, and a run that stops at the first that does not pass.

::

    from portside import pipeline
    release = pipeline.Pipeline("pipeline.toml", registry=registry)   # a Registry, a lab, an Endpoint or "HOST:PORT"
    release.build()                      # a StepResult: ✔ build  team/app:1.1.0 built from 2 stages…
    result = release.run()               # a RunResult: every step, stopped at the first refusal or error
    result                               # in Jupyter: the chain of steps, coloured by outcome
    release.cleanup()                    # the local images, tags and deployments it made

A step that raises a :class:`~portside.errors.PortsideError` (a tool failed, the registry is down) is
reported as an ``error`` result, not raised: a run always ends with a result to show. A bad
configuration is raised at once, before any step runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import docker.errors

from portside.engine.daemon import client
from portside.errors import PortsideError, UsageError
from portside.oci.endpoint import Endpoint, RegistryLike, endpoint_of
from portside.pipeline.config import CONFIG_FILE, PipelineConfig, load_config
from portside.pipeline.context import StepContext, endpoint_for
from portside.pipeline.result import STEPS, RunResult, StepResult
from portside.pipeline.state import ReleaseState
from portside.pipeline.steps import STEP_FUNCTIONS
from portside.pipeline.steps.deploy import remove_deployments

__all__ = ["Pipeline", "run"]


def _check_step(name: str) -> str:
    if name not in STEPS:
        raise UsageError(f"There is no pipeline step {name!r}.", hint=f"The steps are: {', '.join(STEPS)}.")
    return name


class Pipeline:
    """One release's pipeline: its configuration, the registry it releases to, and the state its steps share.

    ``config``: a :class:`PipelineConfig` or the path of a ``pipeline.toml``. ``registry``: where to
    release — a course :class:`~portside.registry.Registry`, a lab, an ``Endpoint`` (their login and
    TLS settings are used) or ``"HOST:PORT"``; default: ``[release] registry``. ``say``: called with
    the real command behind each step as it starts (``print`` shows them; each result keeps them in
    ``commands``). ``today``: the date allow-list expiries are judged on (default: today).
    """

    def __init__(self, config: PipelineConfig | str | Path = CONFIG_FILE, *,
                 registry: RegistryLike | str | None = None, say: Callable[[str], object] | None = None,
                 today: dt.date | None = None) -> None:
        #: the file the configuration came from: read again before each step, so an edit counts at once
        self.source: Path | None = None if isinstance(config, PipelineConfig) else Path(config)
        loaded = config if isinstance(config, PipelineConfig) else load_config(config)
        endpoint: Endpoint
        if registry is None:
            if not loaded.registry:
                raise UsageError(f"{loaded.source}: no registry to release to.",
                                 hint="Set [release] registry = \"HOST:PORT\", or pass registry=… "
                                      "(--registry HOST:PORT).")
            endpoint = endpoint_for(loaded.registry)
        elif isinstance(registry, str):
            endpoint = endpoint_for(loaded.with_overrides(registry=registry).registry or registry)
        else:
            endpoint = endpoint_of(registry)
        self.config = loaded.with_overrides(registry=endpoint.address)
        self.endpoint = endpoint
        self.say = say
        self.today = today
        self.state = ReleaseState(self.config.output_dir)
        self.results: dict[str, StepResult] = {}

    def __repr__(self) -> str:
        return f"Pipeline({self.config.repository}:{self.config.version} → {self.endpoint.address})"

    def _context(self) -> StepContext:
        return StepContext(self.config, self.endpoint, self.state, self.say, today=self.today)

    def reload(self) -> PipelineConfig:
        """Read ``pipeline.toml`` again (when the pipeline was made from a file): what each step does first."""
        if self.source is not None:
            self.config = load_config(self.source).with_overrides(registry=self.endpoint.address)
            if self.state.folder != self.config.output_dir:
                self.state = ReleaseState(self.config.output_dir)
        return self.config

    # -- one step ------------------------------------------------------------------------------------------------
    def step(self, name: str) -> StepResult:
        """Run step ``name`` on its own (it reads what the earlier steps left in the state folder).

        A pipeline made from a file reads it again first: an edit to ``pipeline.toml`` counts at once
        (a configuration that no longer loads raises its ``UsageError``).
        """
        function = STEP_FUNCTIONS[_check_step(name)]
        self.reload()
        started = time.monotonic()
        context = self._context()
        try:
            result = function(context)
        except PortsideError as exc:
            result = StepResult(name, "error", str(exc), summary="could not run")
        except docker.errors.DockerException as exc:  # an engine call no translator has seen
            result = StepResult(name, "error", f"The Docker engine failed: {exc}", summary="engine error")
        result = StepResult(result.name, result.outcome, result.detail, result.data, result.summary,
                            seconds=time.monotonic() - started, commands=tuple(context.commands))
        self.results[name] = result
        for later in STEPS[STEPS.index(name) + 1:]:  # a step run again makes the later ones' results stale
            self.results.pop(later, None)
        return result

    def build(self) -> StepResult:
        """Build the image: every FROM pinned by digest (or refused), BuildKit, provenance (:mod:`.steps.build`)."""
        return self.step("build")

    def tag(self) -> StepResult:
        """Give it the release's tags: the version, the floating ones, ``sha-<commit>`` (:mod:`.steps.tag`)."""
        return self.step("tag")

    def scan(self) -> StepResult:
        """Scan it and apply the gate, before anything is pushed (:mod:`.steps.scan`)."""
        return self.step("scan")

    def push(self) -> StepResult:
        """Push every tag, only if the gate passed this very image (:mod:`.steps.push`)."""
        return self.step("push")

    def sign(self) -> StepResult:
        """Sign the pushed digest and attest its SBOM (:mod:`.steps.sign`)."""
        return self.step("sign")

    def verify(self) -> StepResult:
        """Resolve the release to a digest and verify it before deploying (:mod:`.steps.verify`)."""
        return self.step("verify")

    def deploy(self) -> StepResult:
        """Run the verified digest in a labelled container (:mod:`.steps.deploy`)."""
        return self.step("deploy")

    # -- a run -----------------------------------------------------------------------------------------------------
    @property
    def title(self) -> str:
        return f"release {self.config.repository}:{self.config.version}"

    def result(self, *, until: str | None = None) -> RunResult:
        """The latest result of each step (up to ``until``), ``not run`` for the others: the picture so far."""
        names = STEPS[: STEPS.index(_check_step(until)) + 1] if until else STEPS
        return RunResult(self.title, tuple(self.results.get(n, StepResult.not_run(n)) for n in names))

    def run(self, *, until: str | None = None, on_step: Callable[[StepResult], object] | None = None) -> RunResult:
        """Every step in order from a fresh state, up to ``until`` (default: the deployment), stopping at the first
        that does not pass. ``on_step`` is told each result as soon as its step ends (a CI log line)."""
        names = STEPS[: STEPS.index(_check_step(until)) + 1] if until else STEPS
        self.reload()
        self.state.clear()
        self.results = {}
        for name in names:
            result = self.step(name)
            if on_step is not None:
                on_step(result)
            if not result.passed:
                break
        return self.result(until=until)

    # -- cleaning up ---------------------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Remove what the pipeline made on this machine: its deployment, the local image and its tags.

        The registry, the output folder (reports, SBOM, state) and the keys are left alone.
        """
        remove_deployments(self.config.deploy.name)
        names = {self._context().local_image}
        tagged = self.state.get("tag").get("tags") or []
        names.update(self._context().ref(t) for t in tagged)
        for step in ("verify", "deploy"):
            reference = self.state.get(step).get("reference")
            if reference:
                names.add(str(reference))
        images = client().images
        for name in sorted(names):
            try:
                images.remove(name, noprune=False)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError:  # still used by a container that is not ours: leave it
                pass


def run(config: PipelineConfig | str | Path = CONFIG_FILE, *, registry: RegistryLike | str | None = None,
        until: str | None = None, say: Callable[[str], object] | None = None,
        today: dt.date | None = None) -> RunResult:
    """``Pipeline(config, registry=…).run(until=…)``: a whole run in one call."""
    return Pipeline(config, registry=registry, say=say, today=today).run(until=until)
