"""The pipeline's configuration: ``pipeline.toml``, read with the standard library's ``tomllib`` and checked.

One file describes a release, section by section, in the order the steps run::

    [release]
    registry = "localhost:5000"       # HOST:PORT; `--registry` on the command line wins
    repository = "team/app"
    version = "1.1.0"                  # semantic version; `--version` wins
    output = "out"                     # state and artefacts (SBOM, reports), relative to this file

    [build]
    context = "app"                    # relative to this file
    dockerfile = "Dockerfile"          # inside the context
    base_pin = "require"               # every FROM pinned by digest: "require" (refuse) or "warn"
    platforms = []                     # e.g. ["linux/amd64", "linux/arm64"]; [] = the engine's own
    network = "none"                   # what RUN steps may reach
    provenance = true                  # BuildKit's provenance attestation, where the engine keeps it
    build_args = {}

    [tag]
    git = "app"                        # the repository whose commit names the sha- tag
    commit = "HEAD"                    # a revision there, or a commit id; `--commit` wins
    latest = false

    [scan]
    scanner = "portside"               # "portside" (the course's scanner), "trivy" or "both"
    fail_on = "critical"               # critical, high, medium, low — or "none": no gate at all
    block_unrated = false
    allowlist = "allow.toml"           # [[allow]] id, reason, expires (optional)
    vex = ["app.openvex.json"]         # OpenVEX documents trivy reads with --vex (optional)

    [sign]
    key = "keys/cosign.key"
    public_key = "keys/cosign.pub"
    password_env = "COSIGN_PASSWORD"   # or: password_file = "keys/cosign.password"
    sbom = "syft"                      # who writes the attested SBOM: "syft" or "trivy"

    [deploy]
    name = "team-app"                  # the deployment's name (a label on its container)
    image = ""                         # optional: what to deploy; default: the digest this run verified
    network = "none"
    expect = "exit"                    # "exit" (exits 0 within timeout) or "running" (still up after timeout)
    timeout = 60
    keep = false                       # keep the container as the current deployment
    labels = {}

Every key but ``[release] repository`` and ``version`` and the two ``[sign]`` keys has a default.
A mistake raises :class:`~portside.errors.UsageError` naming the file, the section, the key and the fix;
the allow-list and the OpenVEX documents are read here too, so a bad entry stops the run before
anything is built.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from portside.errors import PortsideError, UsageError
from portside.oci.reference import Reference, parse
from portside.security.advisories import Severity
from portside.security.scan import AllowEntry, parse_allowlist

__all__ = [
    "CONFIG_FILE",
    "FAIL_ON",
    "SCANNERS",
    "BuildConfig",
    "DeployConfig",
    "PipelineConfig",
    "ScanConfig",
    "SignConfig",
    "TagConfig",
    "load_config",
    "parse_config",
]

#: the file ``portside pipeline`` reads unless told otherwise
CONFIG_FILE = "pipeline.toml"
SCANNERS = ("portside", "trivy", "both")
#: what ``[scan] fail_on`` accepts, strictest last; ``none`` switches the gate off
FAIL_ON = ("none", "critical", "high", "medium", "low")
Scanner = Literal["portside", "trivy", "both"]
BasePin = Literal["require", "warn"]
SbomTool = Literal["syft", "trivy"]
Expect = Literal["exit", "running"]

_ADDRESS = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class BuildConfig:
    """``[build]``: what to build and how."""

    context: Path
    dockerfile: str = "Dockerfile"
    base_pin: BasePin = "require"
    platforms: tuple[str, ...] = ()
    network: str | None = "none"
    provenance: bool = True
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None

    @property
    def dockerfile_path(self) -> Path:
        return self.context / self.dockerfile


@dataclass(frozen=True)
class TagConfig:
    """``[tag]``: where the commit comes from, and whether ``latest`` moves too."""

    git: Path
    commit: str = "HEAD"
    latest: bool = False


@dataclass(frozen=True)
class ScanConfig:
    """``[scan]``: the gate. ``fail_on is None`` means ``fail_on = "none"``: nothing blocks."""

    scanner: Scanner = "portside"
    fail_on: Severity | None = Severity.CRITICAL
    block_unrated: bool = False
    allowlist: Path | None = None
    allow: tuple[AllowEntry, ...] = ()
    vex: tuple[Path, ...] = ()

    @property
    def fail_on_name(self) -> str:
        return "none" if self.fail_on is None else self.fail_on.name.lower()

    @property
    def uses_trivy(self) -> bool:
        return self.scanner in ("trivy", "both")

    @property
    def uses_portside(self) -> bool:
        return self.scanner in ("portside", "both")


@dataclass(frozen=True)
class SignConfig:
    """``[sign]``: the key pair (offline signing) and who writes the SBOM."""

    key: Path
    public_key: Path
    password_env: str = "COSIGN_PASSWORD"
    password_file: Path | None = None
    sbom: SbomTool = "syft"

    def password(self) -> str:
        """The private key's password: from ``password_file`` if set, else from ``$password_env``."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise UsageError(f"Cannot read the signing key's password file {self.password_file}: "
                                 f"{exc.strerror}.", hint="Check [sign] password_file.") from None
        value = os.environ.get(self.password_env)
        if not value:
            raise UsageError(f"The signing key's password is not set: ${self.password_env} is empty.",
                             hint=f"Export {self.password_env} (in CI: from a secret), or name a file with "
                                  "[sign] password_file.")
        return value


@dataclass(frozen=True)
class DeployConfig:
    """``[deploy]``: the container that stands for production."""

    name: str = "app"
    image: str | None = None
    network: str = "none"
    expect: Expect = "exit"
    timeout: float = 60.0
    keep: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineConfig:
    """A whole ``pipeline.toml``, every path resolved against the file's folder (``base_dir``)."""

    base_dir: Path
    repository: str
    version: str
    build: BuildConfig
    tag: TagConfig
    scan: ScanConfig
    sign: SignConfig
    deploy: DeployConfig = field(default_factory=DeployConfig)
    registry: str | None = None
    output: Path | None = None
    source: str = CONFIG_FILE

    @property
    def output_dir(self) -> Path:
        """Where the run's state and artefacts go (``[release] output``, default ``out``)."""
        return self.output or self.base_dir / "out"

    def with_overrides(self, *, registry: str | None = None, version: str | None = None,
                       commit: str | None = None) -> PipelineConfig:
        """The same configuration with the command line's ``--registry``, ``--version``, ``--commit`` applied."""
        config = self
        if registry:
            config = replace(config, registry=_registry(registry, "--registry"))
        if version:
            config = replace(config, version=_version(version, "--version"))
        if commit:
            config = replace(config, tag=replace(config.tag, commit=_commit(commit, "--commit")))
        return config

    def reference(self, tag: str | None = None, digest: str | None = None) -> str:
        """``REGISTRY/REPOSITORY[:tag][@digest]`` (raises when no registry is known yet)."""
        if not self.registry:
            raise UsageError(f"{self.source}: no registry to release to.",
                             hint="Set [release] registry = \"HOST:PORT\", or pass --registry HOST:PORT.")
        return f"{self.registry}/{self.repository}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")

    def deploy_reference(self) -> Reference | None:
        """``[deploy] image`` parsed (a bare ``repo:tag`` is put in the release registry), else ``None``."""
        if not self.deploy.image:
            return None
        image = self.deploy.image
        first = image.split("/", 1)[0]
        if "/" not in image or not ("." in first or ":" in first or first == "localhost"):
            image = f"{self.registry}/{image}" if self.registry else image
        return parse(image)


# -- reading -----------------------------------------------------------------------------------------------------
class _Section:
    """One TOML table, read key by key: every value's type checked, every unknown key named."""

    def __init__(self, source: str, name: str, data: Any) -> None:
        self.source, self.name = source, name
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise UsageError(f"{source}: [{name}] must be a table.", hint=f"Write it as a [{name}] section.")
        self.data: dict[str, Any] = dict(data)
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.source}: [{self.name}] {key}"

    def _get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
            raise UsageError(f"{self.where(key)} must be {what}, not {value!r}.")
        if not isinstance(value, kind):
            raise UsageError(f"{self.where(key)} must be {what}, not {value!r}.",
                             hint=f"Example: {key} = {_example(default, kind)}")
        return value

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._get(key, str, "a string", default)
        if required and not value:
            raise UsageError(f"{self.where(key)} is missing.", hint=f"Add {key} = \"…\" to the [{self.name}] section.")
        return cast("str | None", value)

    def choice(self, key: str, options: Sequence[str], default: str) -> str:
        value = str(self.text(key, default))
        if value.lower() not in options:
            raise UsageError(f"{self.where(key)} = {value!r} is not one of {', '.join(options)}.",
                             hint=f"Write {key} = \"{default}\".")
        return value.lower()

    def flag(self, key: str, default: bool) -> bool:
        return bool(self._get(key, bool, "true or false", default))

    def number(self, key: str, default: float) -> float:
        value = float(self._get(key, (int, float), "a number", default))
        if value <= 0:
            raise UsageError(f"{self.where(key)} must be more than 0.", hint=f"Write {key} = {default:g}.")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key, (str, list), "a string or a list of strings", [])
        items = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(item, str) and item for item in items):
            raise UsageError(f"{self.where(key)} must list strings.", hint=f'Write {key} = ["…", "…"].')
        return tuple(items)

    def table(self, key: str) -> dict[str, str]:
        value = self._get(key, dict, "a table of strings", {})
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()):
            raise UsageError(f"{self.where(key)} must map names to strings.", hint=f'Write {key} = {{ NAME = "…" }}.')
        return {str(k): str(v) for k, v in value.items()}

    def path(self, base: Path, key: str, default: str | None = None, *, required: bool = False) -> Path | None:
        value = self.text(key, default, required=required)
        return (base / value).resolve() if value else None

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise UsageError(f"{self.source}: [{self.name}] has unknown key(s): {', '.join(unknown)}.",
                             hint=f"The keys of [{self.name}] are: {', '.join(sorted(self.used))}.")


def _example(default: Any, kind: type | tuple[type, ...]) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, str):
        return f'"{default}"'
    if isinstance(default, list):
        return "[]"
    if isinstance(default, dict):
        return "{}"
    return str(default) if default is not None else '"…"'


def _registry(value: str, where: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise UsageError(f"{where} = {value!r} is not HOST:PORT.", hint="Write the registry as localhost:5000.")
    return value


def _version(value: str, where: str) -> str:
    from portside.lessons.tagging import parse_version

    try:
        return str(parse_version(value))
    except UsageError as exc:
        raise UsageError(f"{where}: {exc.message}", hint=exc.hint) from None


def _commit(value: str, where: str) -> str:
    if not value.strip() or any(c.isspace() for c in value):
        raise UsageError(f"{where} = {value!r} is not a revision.",
                         hint="Give a commit id (git rev-parse HEAD) or a revision such as HEAD.")
    return value.strip()


def _repository(value: str, where: str) -> str:
    try:
        parsed = parse(f"localhost:5000/{value}")
    except PortsideError:
        parsed = None
    if parsed is None or parsed.tag or parsed.digest or parsed.path != value:
        raise UsageError(f"{where} = {value!r} is not a repository name.",
                         hint='Write it without registry, tag or digest, in lower case: repository = "team/app".')
    return value


def _allowlist(path: Path | None, where: str) -> tuple[AllowEntry, ...]:
    if path is None:
        return ()
    if not path.is_file():
        raise UsageError(f"{where}: there is no allow-list at {path.name}.",
                         hint="Create it (it may hold only comments), or remove the allowlist key.")
    try:
        return tuple(parse_allowlist(path.read_text(encoding="utf-8"), name=path.name))
    except OSError as exc:
        raise UsageError(f"{where}: cannot read {path.name}: {exc.strerror}.") from None
    except PortsideError as exc:  # an entry without a reason or an expiry: refused before anything runs
        raise UsageError(f"{where}: {exc.message}", hint=exc.hint) from None


def _vex(paths: Sequence[Path], where: str, scanner: str) -> tuple[Path, ...]:
    from portside.pipeline.vex import read_openvex

    if paths and scanner == "portside":
        raise UsageError(f"{where}: the course scanner does not read OpenVEX; trivy does (--vex).",
                         hint='Set scanner = "trivy" or "both", or record the exception in the allow-list.')
    for path in paths:
        read_openvex(path)  # a clear error for a file that is not an OpenVEX document
    return tuple(paths)


def parse_config(text: str, *, base_dir: Path, source: str = CONFIG_FILE) -> PipelineConfig:
    """Read ``pipeline.toml`` text; relative paths are resolved against ``base_dir``."""
    base_dir = Path(base_dir).resolve()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source} is not valid TOML: {exc}.", hint="Check the line it names.") from None
    sections = {"release", "build", "tag", "scan", "sign", "deploy"}
    unknown = sorted(set(data) - sections)
    if unknown:
        raise UsageError(f"{source} has unknown section(s): {', '.join(unknown)}.",
                         hint=f"The sections are: {', '.join(sorted(sections))}.")

    release = _Section(source, "release", data.get("release"))
    registry = release.text("registry")
    repository = _repository(str(release.text("repository", required=True)), release.where("repository"))
    version = _version(str(release.text("version", required=True)), release.where("version"))
    output = release.path(base_dir, "output", "out")
    release.done()

    build = _Section(source, "build", data.get("build"))
    context = build.path(base_dir, "context", ".")
    assert context is not None
    network = build.text("network", "none")
    target = build.text("target")
    build_config = BuildConfig(
        context=context, dockerfile=str(build.text("dockerfile", "Dockerfile")),
        base_pin=cast("BasePin", build.choice("base_pin", ("require", "warn"), "require")),
        platforms=build.texts("platforms"), network=network or None, provenance=build.flag("provenance", True),
        build_args=build.table("build_args"), target=target or None)
    build.done()
    if not build_config.dockerfile_path.is_file():
        raise UsageError(f"{build.where('dockerfile')}: there is no {build_config.dockerfile} in "
                         f"{build_config.context.name}/.", hint="Check [build] context and dockerfile.")

    tag = _Section(source, "tag", data.get("tag"))
    tag_config = TagConfig(git=tag.path(base_dir, "git", ".") or base_dir,
                           commit=_commit(str(tag.text("commit", "HEAD")), tag.where("commit")),
                           latest=tag.flag("latest", False))
    tag.done()

    scan = _Section(source, "scan", data.get("scan"))
    scanner = scan.choice("scanner", SCANNERS, "portside")
    fail_on = scan.choice("fail_on", FAIL_ON, "critical")
    allowlist = scan.path(base_dir, "allowlist")
    vex = tuple((base_dir / v).resolve() for v in scan.texts("vex"))
    scan_config = ScanConfig(scanner=cast("Scanner", scanner),
                             fail_on=None if fail_on == "none" else Severity[fail_on.upper()],
                             block_unrated=scan.flag("block_unrated", False), allowlist=allowlist,
                             allow=_allowlist(allowlist, scan.where("allowlist")),
                             vex=_vex(vex, scan.where("vex"), scanner))
    scan.done()

    sign = _Section(source, "sign", data.get("sign"))
    key = sign.path(base_dir, "key", required=True)
    public_key = sign.path(base_dir, "public_key", required=True)
    assert key is not None and public_key is not None
    sign_config = SignConfig(key=key, public_key=public_key,
                             password_env=str(sign.text("password_env", "COSIGN_PASSWORD")),
                             password_file=sign.path(base_dir, "password_file"),
                             sbom=cast("SbomTool", sign.choice("sbom", ("syft", "trivy"), "syft")))
    sign.done()

    deploy = _Section(source, "deploy", data.get("deploy"))
    name = str(deploy.text("name", "app"))
    if not _NAME.fullmatch(name):
        raise UsageError(f"{deploy.where('name')} = {name!r} is not a usable name.",
                         hint="Lower-case letters, digits, '.', '_' and '-': name = \"team-app\".")
    deploy_config = DeployConfig(
        name=name, image=deploy.text("image") or None, network=str(deploy.text("network", "none")),
        expect=cast("Expect", deploy.choice("expect", ("exit", "running"), "exit")),
        timeout=deploy.number("timeout", 60), keep=deploy.flag("keep", False), labels=deploy.table("labels"))
    deploy.done()

    config = PipelineConfig(base_dir=base_dir, repository=repository, version=version, build=build_config,
                            tag=tag_config, scan=scan_config, sign=sign_config, deploy=deploy_config,
                            registry=_registry(registry, release.where("registry")) if registry else None,
                            output=output, source=source)
    if deploy_config.image:
        try:
            config.deploy_reference()
        except PortsideError as exc:
            raise UsageError(f"{deploy.where('image')} = {deploy_config.image!r}: {exc.message}",
                             hint="Leave it out to deploy the digest this run verified.") from None
    return config


def load_config(path: str | Path = CONFIG_FILE) -> PipelineConfig:
    """Read and check ``pipeline.toml`` (paths in it are relative to its folder)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"There is no pipeline configuration at {file}.",
                         hint="Pass --config PATH, or run from the folder that holds pipeline.toml.") from None
    except OSError as exc:
        raise UsageError(f"Cannot read {file}: {exc.strerror}.", hint="Check the path.") from None
    return parse_config(text, base_dir=file.resolve().parent, source=file.name)
