"""pipeline.toml, read with no engine: every path resolved, every mistake named with its section, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.errors import UsageError
from portside.pipeline import load_config, parse_config
from portside.security.advisories import Severity

MINIMAL = """\
[release]
repository = "team/app"
version = "v1.2.0"

[build]
context = "app"

[sign]
key = "keys/cosign.key"
public_key = "keys/cosign.pub"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


def _parse(folder: Path, text: str) -> object:
    return parse_config(text, base_dir=folder)


def _refused(folder: Path, text: str) -> str:
    with pytest.raises(UsageError) as caught:
        parse_config(text, base_dir=folder)
    return str(caught.value)


def test_defaults_and_resolved_paths(folder: Path) -> None:
    config = parse_config(MINIMAL, base_dir=folder)
    assert config.version == "1.2.0"  # the leading v of a git tag is dropped
    assert config.registry is None and config.output_dir == folder.resolve() / "out"
    assert config.build.context == folder.resolve() / "app" and config.build.dockerfile_path.is_file()
    assert (config.build.base_pin, config.build.network, config.build.provenance) == ("require", "none", True)
    assert (config.scan.scanner, config.scan.fail_on, config.scan.allow, config.scan.vex) == (
        "portside", Severity.CRITICAL, (), ())
    assert config.sign.key == folder.resolve() / "keys" / "cosign.key"
    assert (config.tag.git, config.tag.commit) == (folder.resolve(), "HEAD")
    assert (config.deploy.name, config.deploy.expect, config.deploy.keep) == ("app", "exit", False)


def test_overrides_from_the_command_line(folder: Path) -> None:
    config = parse_config(MINIMAL, base_dir=folder).with_overrides(registry="localhost:5000", version="2.0.0-rc.1",
                                                                   commit="abc1234")
    assert (config.registry, config.version, config.tag.commit) == ("localhost:5000", "2.0.0-rc.1", "abc1234")
    assert config.reference("2.0.0-rc.1") == "localhost:5000/team/app:2.0.0-rc.1"
    with pytest.raises(UsageError, match="is not HOST:PORT"):
        config.with_overrides(registry="https://localhost:5000")


@pytest.mark.parametrize(("change", "expected"), [
    (('version = "v1.2.0"', 'version = "latest"'), "'latest' is not a semantic version"),
    (('repository = "team/app"', 'repository = "Team/App:1"'), "[release] repository = 'Team/App:1' is not a "
                                                                "repository name"),
    (('repository = "team/app"\n', ""), "[release] repository is missing"),
    (('[build]\ncontext = "app"', '[build]\ncontext = "app"\nbase_pin = "maybe"'),
     "[build] base_pin = 'maybe' is not one of require, warn"),
    (('[build]\ncontext = "app"', '[build]\ncontext = "app"\nprovenance = "yes"'),
     "[build] provenance must be true or false, not 'yes'"),
    (('[build]\ncontext = "app"', '[build]\ncontext = "app"\nplatfroms = ["linux/arm64"]'),
     "[build] has unknown key(s): platfroms"),
    (('[build]\ncontext = "app"', '[build]\ncontext = "src"'), "there is no Dockerfile in src/"),
    (('[sign]\nkey = "keys/cosign.key"\n', "[sign]\n"), "[sign] key is missing"),
    (("[release]", '[release]\nregistry = "my registry"'), "[release] registry = 'my registry' is not HOST:PORT"),
    (("[sign]", '[scan]\nfail_on = "severe"\n\n[sign]'), "[scan] fail_on = 'severe' is not one of none, critical"),
    (("[sign]", '[scan]\nvex = ["app.openvex.json"]\n\n[sign]'), "the course scanner does not read OpenVEX"),
    (("[sign]", '[deploy]\nname = "Team App"\n\n[sign]'), "[deploy] name = 'Team App' is not a usable name"),
    (("[sign]", '[deploy]\ntimeout = 0\n\n[sign]'), "[deploy] timeout must be more than 0"),
    (("[sign]", "[publish]\n\n[sign]"), "unknown section(s): publish"),
])
def test_mistakes_are_named(folder: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in MINIMAL
    assert expected in _refused(folder, MINIMAL.replace(old, new, 1))


def test_not_toml(folder: Path) -> None:
    assert "pipeline.toml is not valid TOML" in _refused(folder, "[release\nrepository =")


def test_gate_off_is_a_value(folder: Path) -> None:
    """fail_on = "none" is accepted (teams do write it); the gate then says it is off (tests of gates)."""
    config = parse_config(MINIMAL + '\n[scan]\nfail_on = "none"\n', base_dir=folder)
    assert config.scan.fail_on is None and config.scan.fail_on_name == "none"


def test_allowlist_entries_need_a_reason_and_an_expiry(folder: Path) -> None:
    """The allow-list is read with the config: an entry without an expiry stops the run before anything is built."""
    (folder / "allow.toml").write_text('[[allow]]\nid = "GHSA-pr76-5cm5-w9cj"\nreason = "later"\n')
    text = MINIMAL + '\n[scan]\nallowlist = "allow.toml"\n'
    message = _refused(folder, text)
    assert "[scan] allowlist" in message and "entry 1 has no expires" in message
    (folder / "allow.toml").write_text('[[allow]]\nid = "GHSA-pr76-5cm5-w9cj"\nreason = "only our server"\n'
                                       "expires = 2027-01-31\n")
    (entry,) = parse_config(text, base_dir=folder).scan.allow
    assert (entry.id, entry.reason, entry.expires.isoformat()) == ("GHSA-pr76-5cm5-w9cj", "only our server",
                                                                  "2027-01-31")
    (folder / "allow.toml").unlink()
    assert "there is no allow-list at allow.toml" in _refused(folder, text)


def test_deploy_image_in_the_release_registry(folder: Path) -> None:
    config = parse_config(MINIMAL + '\n[deploy]\nimage = "team/app:1.2.0"\n', base_dir=folder)
    ref = config.with_overrides(registry="localhost:5000").deploy_reference()
    assert ref is not None and (ref.domain, ref.path, ref.tag, ref.digest) == ("localhost:5000", "team/app", "1.2.0",
                                                                               None)
    assert parse_config(MINIMAL, base_dir=folder).deploy_reference() is None


def test_password_from_a_file_or_the_environment(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(MINIMAL, base_dir=folder)
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    with pytest.raises(UsageError, match=r"\$COSIGN_PASSWORD is empty"):
        config.sign.password()
    monkeypatch.setenv("COSIGN_PASSWORD", "from-env")
    assert config.sign.password() == "from-env"
    (folder / "keys").mkdir()
    (folder / "keys" / "pw").write_text("from-file\n")
    with_file = parse_config(MINIMAL.replace('public_key = "keys/cosign.pub"',
                                             'public_key = "keys/cosign.pub"\npassword_file = "keys/pw"'),
                             base_dir=folder)
    assert with_file.sign.password() == "from-file"


def test_load_config_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="There is no pipeline configuration at"):
        load_config(tmp_path / "pipeline.toml")
