"""Write a bbolt database file from Python — and read one back.

bbolt (``go.etcd.io/bbolt``) is the embedded key/value store many Go tools keep their
data in; Trivy's vulnerability database is one. A bbolt file is a B+tree of
fixed-size pages. This module writes a *fresh* database in one go — every page laid
out once, nothing ever updated in place — so it needs only a small part of the format:

* **page header** (16 bytes): ``id u64, flags u16, count u16, overflow u32``;
  flags ``branch 0x01``, ``leaf 0x02``, ``meta 0x04``, ``freelist 0x10``. Something
  larger than one page spans ``overflow + 1`` consecutive pages.
* **meta pages** 0 and 1: ``magic, version, pageSize, flags, root bucket {pgid,
  sequence}, freelist pgid, pgid (high-water mark), txid`` and an FNV-64a checksum of
  those 56 bytes. The valid meta with the higher txid is the current one.
* **freelist page**: the ids of free pages (here: none).
* **leaf pages** hold key/value elements (``flags, pos, ksize, vsize``), **branch
  pages** hold ``pos, ksize, pgid`` elements pointing at the child whose first key
  they carry; keys are sorted bytewise.
* a **bucket** is a leaf element with flag ``0x01`` whose value is ``{root pgid,
  sequence}``. A small bucket without sub-buckets is stored *inline*: root 0, and its
  leaf page follows in the value itself.

>>> root = Bucket()
>>> root.bucket("fruit").put("apple", "red")       # doctest: +SKIP
>>> write("fruit.db", root)                          # doctest: +SKIP
>>> read("fruit.db")                                 # doctest: +SKIP
{b'fruit': {b'apple': b'red'}}

It knows nothing about what the keys and values mean (see :mod:`portside.security.trivydb`).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from portside.errors import ScanError

__all__ = ["PAGE_SIZE", "Bucket", "Tree", "WriteStats", "as_mapping", "fnv64a", "read", "write"]

PAGE_SIZE = 4096
MAGIC = 0xED0CDAED
VERSION = 2
MAX_KEY_SIZE = 32768
MAX_VALUE_SIZE = (1 << 31) - 2

BRANCH, LEAF, META, FREELIST = 0x01, 0x02, 0x04, 0x10
BUCKET_LEAF_FLAG = 0x01

_PAGE_HEADER = struct.Struct("<QHHI")       # id, flags, count, overflow
_LEAF_ELEMENT = struct.Struct("<IIII")      # flags, pos, ksize, vsize
_BRANCH_ELEMENT = struct.Struct("<IIQ")     # pos, ksize, pgid
_BUCKET_HEADER = struct.Struct("<QQ")       # root pgid, sequence
_META = struct.Struct("<IIIIQQQQQ")         # magic, version, page size, flags, root, seq, freelist, pgid, txid
_CHECKSUM = struct.Struct("<Q")

_FREELIST_PGID = 2
_FIRST_DATA_PGID = 3


def fnv64a(data: bytes) -> int:
    """The 64-bit FNV-1a hash bbolt uses as its meta page checksum."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _b(text: bytes | str) -> bytes:
    return text.encode() if isinstance(text, str) else bytes(text)


class Bucket:
    """An in-memory bucket: keys (bytes) to values (bytes) or nested buckets.

    ``str`` keys and values are encoded as UTF-8. Build the whole tree, then
    :func:`write` it; the database's root bucket holds only buckets, as in bbolt.
    """

    def __init__(self, sequence: int = 0) -> None:
        self.sequence = sequence
        self._items: dict[bytes, bytes | Bucket] = {}

    def put(self, key: bytes | str, value: bytes | str) -> None:
        """Set ``key`` to ``value`` (replacing an earlier value, never a bucket)."""
        k, v = _b(key), _b(value)
        _check_key(k)
        if len(v) > MAX_VALUE_SIZE:
            raise ValueError(f"bbolt values are at most {MAX_VALUE_SIZE} bytes; {k!r} has {len(v)}")
        if isinstance(self._items.get(k), Bucket):
            raise ValueError(f"{k!r} is a bucket, not a value")
        self._items[k] = v

    def bucket(self, name: bytes | str) -> Bucket:
        """The nested bucket ``name``, created on first use."""
        k = _b(name)
        _check_key(k)
        found = self._items.get(k)
        if found is None:
            found = self._items[k] = Bucket()
        if not isinstance(found, Bucket):
            raise ValueError(f"{k!r} is a value, not a bucket")
        return found

    def get(self, key: bytes | str) -> bytes | Bucket | None:
        """The value or bucket stored under ``key``, if any."""
        return self._items.get(_b(key))

    def items(self) -> Iterator[tuple[bytes, bytes | Bucket]]:
        """Entries in bbolt's order: keys sorted bytewise."""
        for key in sorted(self._items):
            yield key, self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def to_dict(self) -> Tree:
        """The bucket as nested dicts (what :func:`read` returns), for comparisons."""
        return {k: v.to_dict() if isinstance(v, Bucket) else v for k, v in self.items()}


#: a bucket read back: key → value bytes, or a nested Tree for a sub-bucket
Tree = dict[bytes, Union[bytes, "Tree"]]


def _check_key(key: bytes) -> None:
    if not key:
        raise ValueError("bbolt keys must not be empty")
    if len(key) > MAX_KEY_SIZE:
        raise ValueError(f"bbolt keys are at most {MAX_KEY_SIZE} bytes; got {len(key)}")


# ── writing ───────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class WriteStats:
    """What :func:`write` laid out."""

    path: Path
    pages: int                 #: the high-water mark: pages in the file
    leaf_pages: int
    branch_pages: int
    overflow_pages: int        #: extra pages taken by elements larger than a page
    inline_buckets: int
    buckets: int               #: every bucket except the root
    size: int                  #: file size in bytes


class _Pages:
    """Hands out page ids in order and collects the bytes of every page."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.chunks: list[bytes] = []
        self.next_id = _FIRST_DATA_PGID
        self.counts = {"leaf": 0, "branch": 0, "overflow": 0, "inline": 0, "buckets": 0}

    def add(self, flags: int, count: int, body: bytes) -> int:
        """Store one page (plus overflow pages if ``body`` does not fit) and return its id."""
        pgid = self.next_id
        size = _PAGE_HEADER.size + len(body)
        npages = -(-size // self.page_size)
        header = _PAGE_HEADER.pack(pgid, flags, count, npages - 1)
        self.chunks.append(header + body + bytes(npages * self.page_size - size))
        self.next_id += npages
        self.counts["leaf" if flags == LEAF else "branch"] += 1
        self.counts["overflow"] += npages - 1
        return pgid


def _leaf_body(elements: list[tuple[int, bytes, bytes]]) -> bytes:
    """Element headers first, then each key and value; ``pos`` counts from the element's own header."""
    headers, data = bytearray(), bytearray()
    table = _LEAF_ELEMENT.size * len(elements)
    for i, (flags, key, value) in enumerate(elements):
        pos = table + len(data) - i * _LEAF_ELEMENT.size
        headers += _LEAF_ELEMENT.pack(flags, pos, len(key), len(value))
        data += key + value
    return bytes(headers + data)


def _branch_body(children: list[tuple[bytes, int]]) -> bytes:
    headers, data = bytearray(), bytearray()
    table = _BRANCH_ELEMENT.size * len(children)
    for i, (key, pgid) in enumerate(children):
        pos = table + len(data) - i * _BRANCH_ELEMENT.size
        headers += _BRANCH_ELEMENT.pack(pos, len(key), pgid)
        data += key
    return bytes(headers + data)


def _groups(sizes: list[int], page_size: int) -> list[tuple[int, int]]:
    """Split items (each of the given size on a page) into runs that fill pages; an oversized item goes alone."""
    runs: list[tuple[int, int]] = []
    start, used = 0, _PAGE_HEADER.size
    for i, size in enumerate(sizes):
        if i > start and used + size > page_size:
            runs.append((start, i))
            start, used = i, _PAGE_HEADER.size
        used += size
    runs.append((start, len(sizes)))
    return runs


def _write_tree(pages: _Pages, elements: list[tuple[int, bytes, bytes]]) -> int:
    """Leaf pages for the sorted ``elements``, then branch levels above them; returns the root page id."""
    sizes = [_LEAF_ELEMENT.size + len(k) + len(v) for _, k, v in elements]
    level: list[tuple[bytes, int]] = []
    for start, end in _groups(sizes, pages.page_size) if elements else [(0, 0)]:
        chunk = elements[start:end]
        first = chunk[0][1] if chunk else b""
        level.append((first, pages.add(LEAF, len(chunk), _leaf_body(chunk))))
    while len(level) > 1:
        sizes = [_BRANCH_ELEMENT.size + len(key) for key, _ in level]
        level = [(level[start][0], pages.add(BRANCH, end - start, _branch_body(level[start:end])))
                 for start, end in _groups(sizes, pages.page_size)]
    return level[0][1]


def _bucket_value(pages: _Pages, bucket: Bucket) -> bytes:
    """The value a parent stores for ``bucket``: its header, plus its whole leaf page if inline."""
    pages.counts["buckets"] += 1
    elements = _elements(pages, bucket)
    size = _PAGE_HEADER.size + sum(_LEAF_ELEMENT.size + len(k) + len(v) for _, k, v in elements)
    has_sub_buckets = any(flags & BUCKET_LEAF_FLAG for flags, _, _ in elements)
    if not has_sub_buckets and size <= pages.page_size // 4:
        pages.counts["inline"] += 1
        page = _PAGE_HEADER.pack(0, LEAF, len(elements), 0) + _leaf_body(elements)
        return _BUCKET_HEADER.pack(0, bucket.sequence) + page
    return _BUCKET_HEADER.pack(_write_tree(pages, elements), bucket.sequence)


def _elements(pages: _Pages, bucket: Bucket) -> list[tuple[int, bytes, bytes]]:
    out = []
    for key, value in bucket.items():
        if isinstance(value, Bucket):
            out.append((BUCKET_LEAF_FLAG, key, _bucket_value(pages, value)))
        else:
            out.append((0, key, value))
    return out


def _meta_page(pgid: int, page_size: int, root: int, high_water: int, txid: int) -> bytes:
    meta = _META.pack(MAGIC, VERSION, page_size, 0, root, 0, _FREELIST_PGID, high_water, txid)
    page = _PAGE_HEADER.pack(pgid, META, 0, 0) + meta + _CHECKSUM.pack(fnv64a(meta))
    return page + bytes(page_size - len(page))


def write(path: str | os.PathLike[str], root: Bucket, *, page_size: int = PAGE_SIZE) -> WriteStats:
    """Write ``root`` as a new bbolt database at ``path`` (replacing the file atomically).

    Top-level entries must be buckets, as bbolt requires. Pages are laid out depth
    first (a bucket's children before the bucket), every page used, none free.
    """
    if page_size < 1024 or page_size & (page_size - 1):
        raise ValueError(f"page size must be a power of two of at least 1024, not {page_size}")
    for key, value in root.items():
        if not isinstance(value, Bucket):
            raise ValueError(f"the root of a bbolt database holds only buckets; {key!r} is a value")
    pages = _Pages(page_size)
    root_pgid = _write_tree(pages, _elements(pages, root))
    high_water = pages.next_id
    freelist = _PAGE_HEADER.pack(_FREELIST_PGID, FREELIST, 0, 0)
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "wb") as out:
            out.write(_meta_page(0, page_size, root_pgid, high_water, 0))
            out.write(_meta_page(1, page_size, root_pgid, high_water, 1))
            out.write(freelist + bytes(page_size - len(freelist)))
            for chunk in pages.chunks:
                out.write(chunk)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ScanError(f"Could not write the bbolt database {target}: {exc.strerror or exc}.",
                        hint="Check that the folder exists and is writable, and that the disk has room.") from None
    c = pages.counts
    return WriteStats(target, high_water, c["leaf"], c["branch"], c["overflow"], c["inline"], c["buckets"],
                      high_water * page_size)


# ── reading (for tests and for looking inside) ────────────────────────────────────


class _Reader:
    """Walks every reachable page, recording each so that :func:`read` can check none is missing or shared."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        meta = self._meta()
        self.page_size, self.root, self.freelist, self.high_water = meta
        self.seen: set[int] = set()

    def _meta_at(self, offset: int) -> tuple[int, int, int, int, int] | None:
        """``(txid, page size, root, freelist, high-water)`` of the meta at ``offset``, if it is valid."""
        raw = self.data[offset:offset + _META.size + _CHECKSUM.size]
        if len(raw) < _META.size + _CHECKSUM.size:
            return None
        magic, version, size, _, root, _, freelist, high_water, txid = _META.unpack(raw[:_META.size])
        (checksum,) = _CHECKSUM.unpack(raw[_META.size:])
        if magic != MAGIC or version != VERSION or checksum != fnv64a(raw[:_META.size]):
            return None
        return txid, size, root, freelist, high_water

    def _meta(self) -> tuple[int, int, int, int]:
        """The current meta: the valid one of pages 0 and 1 with the higher txid."""
        first = self._meta_at(_PAGE_HEADER.size)
        second = self._meta_at((first[1] if first else PAGE_SIZE) + _PAGE_HEADER.size)
        valid = [m for m in (first, second) if m is not None]
        if not valid:
            raise ScanError("This is not a bbolt database: neither meta page has the magic number, "
                            "version 2 and a matching checksum.")
        _, size, root, freelist, high_water = max(valid)
        return size, root, freelist, high_water

    def page(self, pgid: int) -> tuple[int, int, memoryview]:
        """``(flags, count, page bytes incl. overflow)``; each page may be visited once."""
        if (pgid < _FIRST_DATA_PGID and pgid != _FREELIST_PGID) or pgid >= self.high_water:
            raise ScanError(f"bbolt page {pgid} is out of bounds (high-water mark {self.high_water}).")
        offset = pgid * self.page_size
        page_id, flags, count, overflow = _PAGE_HEADER.unpack_from(self.data, offset)
        if page_id != pgid:
            raise ScanError(f"bbolt page {pgid} carries id {page_id}.")
        for n in range(pgid, pgid + overflow + 1):
            if n in self.seen:
                raise ScanError(f"bbolt page {n} is referenced twice.")
            self.seen.add(n)
        end = offset + (overflow + 1) * self.page_size
        return flags, count, memoryview(self.data)[offset:end]

    def free_pages(self) -> set[int]:
        flags, count, view = self.page(self.freelist)
        if flags != FREELIST:
            raise ScanError(f"bbolt page {self.freelist} should be the freelist (flags {flags:#x}).")
        start = _PAGE_HEADER.size
        if count == 0xFFFF:
            (count,) = struct.unpack_from("<Q", view, start)
            start += 8
        return set(struct.unpack_from(f"<{count}Q", view, start))

    def tree(self, pgid: int) -> Tree:
        out: Tree = {}
        self._walk(pgid, out)
        return out

    def _walk(self, pgid: int, out: Tree) -> None:
        flags, count, view = self.page(pgid)
        if flags == BRANCH:
            for i in range(count):
                base = _PAGE_HEADER.size + i * _BRANCH_ELEMENT.size
                _, _, child = _BRANCH_ELEMENT.unpack_from(view, base)
                self._walk(child, out)
        elif flags == LEAF:
            self._leaf(view, count, out)
        else:
            raise ScanError(f"bbolt page {pgid} has type {flags:#x} where a branch or leaf was expected.")

    def _leaf(self, view: memoryview, count: int, out: Tree) -> None:
        previous = b""
        for i in range(count):
            base = _PAGE_HEADER.size + i * _LEAF_ELEMENT.size
            flags, pos, ksize, vsize = _LEAF_ELEMENT.unpack_from(view, base)
            key = bytes(view[base + pos:base + pos + ksize])
            value = bytes(view[base + pos + ksize:base + pos + ksize + vsize])
            if key <= previous:
                raise ScanError(f"bbolt keys out of order: {key!r} after {previous!r}.")
            previous = key
            if flags & BUCKET_LEAF_FLAG:
                root, _ = _BUCKET_HEADER.unpack_from(value)
                if root == 0:
                    inline = memoryview(value)[_BUCKET_HEADER.size:]
                    _, _, icount, _ = _PAGE_HEADER.unpack_from(inline)
                    sub: Tree = {}
                    self._leaf(inline, icount, sub)
                    out[key] = sub
                else:
                    out[key] = self.tree(root)
            else:
                out[key] = value


def read(path: str | os.PathLike[str]) -> Tree:
    """Read a whole bbolt database into nested dicts, checking its structure on the way.

    Checks the meta checksum, page ids, key order, and that every page below the
    high-water mark is used exactly once or free — the same page accounting as Go's
    ``tx.Check()``. A small reader for tests and for looking inside; not fast.
    """
    data = Path(path).read_bytes()
    reader = _Reader(data)
    if len(data) < reader.high_water * reader.page_size:
        raise ScanError(f"The bbolt file {path} is shorter than its {reader.high_water} pages.")
    reader.seen.update({0, 1})
    free = reader.free_pages()
    tree = reader.tree(reader.root)
    missing = set(range(reader.high_water)) - reader.seen - free
    if missing:
        raise ScanError(f"bbolt pages neither reachable nor free: {sorted(missing)[:10]}.")
    return tree


def as_mapping(tree: Mapping[bytes, object]) -> dict[str, object]:
    """``tree`` with keys (and byte values) decoded as UTF-8, for printing."""
    return {k.decode(errors="replace"): as_mapping(v) if isinstance(v, Mapping)
            else v.decode(errors="replace") if isinstance(v, bytes) else v for k, v in tree.items()}
