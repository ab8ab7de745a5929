"""The bbolt writer on its own: branch pages, overflow pages, nested and inline buckets — read back twice.

Once by :func:`portside.security.bbolt.read` (pure Python) and once by Go's own bbolt: a
tiny program built from Debian's packaged source (``golang-github-coreos-bbolt-dev``)
runs ``tx.Check()`` and dumps the tree and bbolt's page statistics. It is built
into the course state folder on first use; without Go the Go half is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from portside.base.paths import state_dir
from portside.base.proc import run
from portside.errors import PortsideError
from portside.security import bbolt

GO_BBOLT_SRC = Path("/usr/share/gocode/src/go.etcd.io/bbolt")

# A reader using the real bbolt: tx.Check() problems, the tree (hex keys/values), page statistics.
CHECKER = """package main
import ("encoding/hex"; "encoding/json"; "os"; bolt "go.etcd.io/bbolt")
func dump(b *bolt.Bucket) map[string]interface{} {
	out := map[string]interface{}{}
	b.ForEach(func(k, v []byte) error {
		if v == nil {
			out[hex.EncodeToString(k)] = dump(b.Bucket(k))
		} else {
			out[hex.EncodeToString(k)] = hex.EncodeToString(v)
		}
		return nil
	})
	return out
}
func main() {
	db, err := bolt.Open(os.Args[1], 0400, &bolt.Options{ReadOnly: true})
	if err != nil { os.Stderr.WriteString(err.Error()); os.Exit(1) }
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		problems, tree, stats := []string{}, map[string]interface{}{}, bolt.BucketStats{}
		for e := range tx.Check() { problems = append(problems, e.Error()) }
		tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			tree[hex.EncodeToString(name)] = dump(b)
			stats.Add(b.Stats())
			return nil
		})
		result := map[string]interface{}{"problems": problems, "tree": tree, "stats": stats}
		return json.NewEncoder(os.Stdout).Encode(result)
	})
}
"""


@pytest.fixture(scope="session")
def go_checker() -> Path:
    """The Go bbolt checker binary, built once into ``<state>/bbolt-check``."""
    go = shutil.which("go")
    if not go or not GO_BBOLT_SRC.is_dir():
        if os.environ.get("CI"):  # `make test` installs them (scripts/test-deps.sh): in CI a skip would hide a gap
            pytest.fail("Go or golang-github-coreos-bbolt-dev is missing: scripts/test-deps.sh installs them")
        pytest.skip("Go bbolt checker needs `apt-get install golang-go golang-github-coreos-bbolt-dev`")
    folder = state_dir("bbolt-check")
    binary = folder / "bboltcheck"
    source = folder / "check.go"
    if not binary.is_file() or not source.is_file() or source.read_text() != CHECKER:
        source.write_text(CHECKER)
        run([go, "build", "-o", binary, source], cwd=folder, timeout=300, what="go build bboltcheck",
            env={"GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOCACHE": str(folder / "cache"),
                 "GOFLAGS": "", "CGO_ENABLED": "0"})
    return binary


def go_read(checker: Path, db: Path) -> dict[str, Any]:
    """Run the Go checker; the tree comes back with bytes keys and values, like :func:`bbolt.read`."""
    data: dict[str, Any] = json.loads(run([checker, db], timeout=60).stdout)

    def unhex(tree: dict[str, Any]) -> dict[bytes, Any]:
        return {bytes.fromhex(k): unhex(v) if isinstance(v, dict) else bytes.fromhex(v) for k, v in tree.items()}

    data["tree"] = unhex(data["tree"])
    return data


def sample() -> bbolt.Bucket:
    """Many keys (branch pages), a value larger than a page, nested, inline and empty buckets."""
    root = bbolt.Bucket()
    many = root.bucket("many")
    for i in range(20_000):
        many.put(f"key-{i:06d}", f"value-{i}" * 3)
    big = root.bucket("big")
    big.put("huge", bytes(range(256)) * 80)          # 20 KiB: one leaf plus overflow pages
    big.put("small", "s")
    nest = root.bucket("nest")
    nest.bucket("inline").put("a", "1")               # tiny, no sub-buckets: stored inside its parent's value
    nest.bucket("empty")
    deep = nest.bucket("deep")
    for i in range(500):
        deep.put(f"k{i:03d}", "v" * 50)
    deep.bucket("inner").put("x", "y")
    root.bucket("ünïcode").put("ключ", "значение")
    return root


def test_write_and_read_back_in_python(tmp_path: Path) -> None:
    """The pure-Python reader gets back exactly the tree that was written, and the layout uses every page kind."""
    root = sample()
    stats = bbolt.write(tmp_path / "t.db", root)
    assert stats.branch_pages >= 2 and stats.overflow_pages >= 4 and stats.inline_buckets >= 3
    assert stats.size == (tmp_path / "t.db").stat().st_size == stats.pages * bbolt.PAGE_SIZE
    assert bbolt.read(tmp_path / "t.db") == root.to_dict()


def test_go_bbolt_accepts_the_file(tmp_path: Path, go_checker: Path) -> None:
    """Go's bbolt opens the file, tx.Check() finds no problem, and it reads the same tree and page kinds."""
    root = sample()
    stats = bbolt.write(tmp_path / "t.db", root)
    found = go_read(go_checker, tmp_path / "t.db")
    assert found["problems"] == []
    assert found["tree"] == root.to_dict()
    go_stats = found["stats"]
    assert go_stats["BranchPageN"] == stats.branch_pages >= 2
    assert go_stats["LeafOverflowN"] == stats.overflow_pages >= 4
    assert go_stats["InlineBucketN"] == stats.inline_buckets >= 3
    assert go_stats["BucketN"] == stats.buckets


@pytest.mark.parametrize("page_size", [1024, 16384])
def test_other_page_sizes(tmp_path: Path, go_checker: Path, page_size: int) -> None:
    """The page size is read back from the meta page: 1 KiB and 16 KiB files are valid too."""
    root = sample()
    bbolt.write(tmp_path / "t.db", root, page_size=page_size)
    assert bbolt.read(tmp_path / "t.db") == root.to_dict()
    assert go_read(go_checker, tmp_path / "t.db")["problems"] == []


def test_empty_database(tmp_path: Path, go_checker: Path) -> None:
    """An empty root (one empty leaf page) is a valid database."""
    bbolt.write(tmp_path / "e.db", bbolt.Bucket())
    assert bbolt.read(tmp_path / "e.db") == {}
    found = go_read(go_checker, tmp_path / "e.db")
    assert found["problems"] == [] and found["tree"] == {}


def test_a_broken_checksum_is_refused(tmp_path: Path) -> None:
    """Both meta pages damaged: the reader says it is not a bbolt database."""
    path = tmp_path / "t.db"
    bbolt.write(path, sample())
    data = bytearray(path.read_bytes())
    data[16 + 20] ^= 0xFF                           # inside meta 0 (page 0)
    data[bbolt.PAGE_SIZE + 16 + 20] ^= 0xFF         # inside meta 1 (page 1)
    path.write_bytes(bytes(data))
    with pytest.raises(PortsideError, match="not a bbolt database"):
        bbolt.read(path)


def test_misuse_is_refused() -> None:
    """Values at the root, empty keys, and a key used both as value and bucket are errors."""
    root = bbolt.Bucket()
    root.put("plain", "value")
    with pytest.raises(ValueError, match="only buckets"):
        bbolt.write("/dev/null", root)
    with pytest.raises(ValueError, match="empty"):
        root.put("", "x")
    with pytest.raises(ValueError, match="not a bucket"):
        root.bucket("plain")
    b = root.bucket("b")
    with pytest.raises(ValueError, match="is a bucket"):
        root.put("b", "x")
    assert len(b) == 0


def test_fnv64a_known_values() -> None:
    """FNV-1a 64 test vectors from the algorithm's reference."""
    assert bbolt.fnv64a(b"") == 0xCBF29CE484222325
    assert bbolt.fnv64a(b"a") == 0xAF63DC4C8601EC8C
    assert bbolt.fnv64a(b"foobar") == 0x85944171F73967E8
