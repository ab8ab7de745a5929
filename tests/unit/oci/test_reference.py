"""Image references normalise like the Docker CLI, and bad ones fail with the parser's reason."""

from __future__ import annotations

import pytest

from portside.errors import InvalidReference
from portside.oci.reference import join, parse, parsed

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("written", "normalized", "familiar"), [
    ("nginx:alpine", "docker.io/library/nginx:alpine", "nginx:alpine"),
    ("nginx", "docker.io/library/nginx:latest", "nginx"),
    ("team/app:1.0", "docker.io/team/app:1.0", "team/app:1.0"),
    ("localhost:5000/team/app", "localhost:5000/team/app:latest", "localhost:5000/team/app"),
    ("localhost/app:v1", "localhost/app:v1", "localhost/app:v1"),
    ("registry.example:443/a/b/c:tag", "registry.example:443/a/b/c:tag", "registry.example:443/a/b/c:tag"),
    (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}", f"busybox@{DIGEST}"),
    (f"localhost:5000/x:1@{DIGEST}", f"localhost:5000/x:1@{DIGEST}", f"localhost:5000/x:1@{DIGEST}"),
])
def test_normalisation(written: str, normalized: str, familiar: str) -> None:
    """A reference is filled in the way Docker fills it in, and shortens back the way Docker prints it."""
    ref = parse(written)
    assert ref.normalized == normalized
    assert ref.familiar == familiar
    assert ref.original == written


def test_parts() -> None:
    """Domain, path, tag and digest are split where the grammar says."""
    ref = parse(f"localhost:5000/team/app:1.2@{DIGEST}")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("localhost:5000", "team/app", "1.2", DIGEST)
    assert ref.repository == "localhost:5000/team/app"
    assert ref.tag_or_digest == DIGEST
    bare = parse("team/app")
    assert (bare.domain, bare.path, bare.tag, bare.digest) == ("docker.io", "team/app", None, None)
    assert bare.tag_or_digest == "latest"


@pytest.mark.parametrize(("written", "reason"), [
    ("Nginx", "must be lowercase"),
    ("localhost:5000/UPPER", "must be lowercase"),
    ("nginx:", "invalid reference format"),
    ("foo bar", "invalid reference format"),
    ("", "at least one component"),
    ("x@sha256:abc", "invalid reference format"),
    ("a" * 64, "64-byte hexadecimal"),
    ("registry.local/x::y", "invalid reference format"),
])
def test_invalid_references(written: str, reason: str) -> None:
    """Each bad reference raises InvalidReference carrying the parser's reason and a hint."""
    with pytest.raises(InvalidReference) as caught:
        parse(written)
    assert reason in str(caught.value)
    assert "HOST[:PORT]" in str(caught.value)  # the hint shows the shape of a good one


def test_not_a_string() -> None:
    """A non-string is refused with a plain message, not a deep traceback."""
    with pytest.raises(InvalidReference):
        parse(42)  # type: ignore[arg-type]


def test_join_builds_what_parse_reads() -> None:
    assert join("localhost:5000", "team/app") == "localhost:5000/team/app"
    assert join("localhost:5000", "team/app", "1.0") == "localhost:5000/team/app:1.0"
    digest = "sha256:" + "a" * 64
    joined = join("localhost:5000", "team/app", "1.0", digest)
    assert joined == f"localhost:5000/team/app:1.0@{digest}"
    parsed = parse(joined)
    assert (parsed.domain, parsed.path, parsed.tag, parsed.digest) == ("localhost:5000", "team/app", "1.0", digest)


def test_parsed_parses_once() -> None:
    """parsed() parses a string and hands a Reference back as it is; str() is what was written."""
    ref = parsed("localhost:5000/team/app:1.0")
    assert parsed(ref) is ref
    assert str(ref) == "localhost:5000/team/app:1.0" == ref.original
    with pytest.raises(InvalidReference):
        parsed("Nope")
