"""The native PubMed binary index: the original pubmed-vectors layout, written and read here.

Directory layout::

    data.bin    16-byte header: N (int64), then the real bytes per vector (int64; an all-MiniLM-L6-v2
                index writes 48), then N packed bit vectors. The original server wrote 8 there for
                64-byte vectors (a count of 64-bit words); such files are read as they are.
    ids.bin     N int64 PMIDs, row order
    floats.f16  optional: N x dims float16 embeddings, for re-ranking the Hamming candidates
    meta.json   ours: embedder, dims, build progress (an original index has none and still opens)

The reader accepts both meanings of the second header field, deciding from the file size.
Search is exact Hamming top-k with ties broken by ascending PMID (:mod:`.kernel`), optionally
re-ranked by cosine similarity of the float embeddings.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...kernel.filecache import write_atomic
from .kernel import HammingScanner

HEADER_BYTES = 16
DATA_FILE, IDS_FILE, FLOATS_FILE, META_FILE = "data.bin", "ids.bin", "floats.f16", "meta.json"


class IndexFormatError(RuntimeError):
    """A broken or incompatible index directory; the message says which file and what is wrong."""


@dataclass
class Hit:
    """One search result: row in the index, PMID, distance (Hamming bits, or cosine distance after re-ranking)."""

    row: int
    pmid: int
    distance: float


def read_meta(directory: Path) -> dict[str, Any]:
    """meta.json of an index directory ({} for an original index without one)."""
    path = Path(directory) / META_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise IndexFormatError(f"{path} is not valid JSON: {exc}") from exc


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Write meta.json atomically."""
    write_atomic(Path(directory) / META_FILE, json.dumps(meta, indent=2, sort_keys=True))


def read_header(path: Path) -> tuple[int, int]:
    """(N, vector bytes) of a data.bin, deciding from the file size whether field 2 counts words or bytes."""
    path = Path(path)
    size = path.stat().st_size
    if size < HEADER_BYTES:
        raise IndexFormatError(f"{path} is shorter than its 16-byte header ({size} bytes)")
    n, v = (int(x) for x in np.fromfile(path, dtype="<i8", count=2))
    if n < 0 or v <= 0:
        raise IndexFormatError(f"{path} has an invalid header (N={n}, vector size={v})")
    body = size - HEADER_BYTES
    sizes = [vb for vb in (v * 8, v) if vb % 8 == 0]  # words (the original's meaning), then bytes
    for vector_bytes in sizes:
        if body == n * vector_bytes:
            return n, vector_bytes
    for vector_bytes in sizes:  # rows appended after the last commit of an interrupted build: N rules
        if body > n * vector_bytes:
            return n, vector_bytes
    raise IndexFormatError(f"{path}: header says {n} vectors of {v} words ({v * 8} bytes), but the file holds "
                           f"{body} bytes after the header (truncated or not a pubmed-vectors index)")


class BinaryIndex:
    """An opened index: codes (N x W uint64, usually memory-mapped), PMIDs, optional float vectors."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray, floats: np.ndarray | None = None, *,
                 meta: dict[str, Any] | None = None, path: Path | None = None, threads: int = 2,
                 backend: str | None = None):
        self.codes = codes
        self.ids = ids
        self.floats = floats
        self.meta = meta or {}
        self.path = path
        self.scanner = HammingScanner(codes, ids, threads=threads, backend=backend)

    @classmethod
    def open(cls, directory: str | Path, *, threads: int = 2, in_memory: bool = False,
             backend: str | None = None) -> "BinaryIndex":
        """Open ``directory`` (memory-mapped unless ``in_memory``); IndexFormatError with a clear message."""
        directory = Path(directory)
        data, ids_path = directory / DATA_FILE, directory / IDS_FILE
        for p in (data, ids_path):
            if not p.exists():
                raise IndexFormatError(f"{p} not found: build the index with `vcr pubmed build-index` "
                                  f"or point PUBMED_INDEX_DIR at a directory holding data.bin and ids.bin")
        n, vector_bytes = read_header(data)
        if vector_bytes % 8:
            raise IndexFormatError(f"{data}: vectors of {vector_bytes} bytes are not a whole number of 64-bit words")
        words = vector_bytes // 8
        if ids_path.stat().st_size < n * 8:
            raise IndexFormatError(f"{ids_path} holds {ids_path.stat().st_size // 8} PMIDs but data.bin has {n} vectors")
        meta = read_meta(directory)
        codes = _load(data, np.uint64, (n, words), HEADER_BYTES, in_memory)
        ids = _load(ids_path, np.int64, (n,), 0, in_memory)
        floats = None
        dims = int(meta.get("dims") or 0)
        fpath = directory / FLOATS_FILE
        if meta.get("floats") and dims and fpath.exists() and fpath.stat().st_size >= n * dims * 2:
            floats = _load(fpath, np.float16, (n, dims), 0, False)  # read only at the candidates: keep mapped
        return cls(codes, ids, floats, meta=meta, path=directory, threads=threads, backend=backend)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def vector_bytes(self) -> int:
        return self.codes.shape[1] * 8

    def search(self, code: np.ndarray, k: int) -> list[Hit]:
        """The k nearest rows by Hamming distance to ``code`` (packed bytes or uint64 words)."""
        d, rows = self.scanner.search(as_words(code, self.codes.shape[1]), k)
        return [Hit(int(r), int(self.ids[r]), float(x)) for x, r in zip(d, rows)]

    def search_batch(self, codes: np.ndarray, k: int) -> list[list[Hit]]:
        """``search`` for several codes with one pass over the index."""
        words = np.stack([as_words(c, self.codes.shape[1]) for c in codes])
        out = []
        for d, rows in self.scanner.search_batch(words, k):
            out.append([Hit(int(r), int(self.ids[r]), float(x)) for x, r in zip(d, rows)])
        return out

    def rerank(self, query: np.ndarray, hits: list[Hit], k: int) -> list[Hit]:
        """Re-order ``hits`` by cosine distance of the stored float vectors (ties by PMID); first k."""
        if self.floats is None or not hits:
            return hits[:k]
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.floats.shape[1]:
            raise IndexFormatError(f"query embedding has {q.shape[0]} dimensions, the stored vectors {self.floats.shape[1]}")
        rows = np.array([h.row for h in hits])
        order = np.argsort(rows)  # sorted reads of a memory-mapped file
        vecs = np.empty((len(rows), q.shape[0]), np.float32)
        vecs[order] = self.floats[rows[order]].astype(np.float32)
        norms = np.linalg.norm(vecs, axis=1) * (np.linalg.norm(q) or 1.0)
        dist = 1.0 - (vecs @ q) / np.where(norms > 0, norms, 1.0)
        ranked = sorted(zip(dist.tolist(), (h.pmid for h in hits), hits), key=lambda t: (t[0], t[1]))
        return [Hit(h.row, h.pmid, round(float(dd), 6)) for dd, _, h in ranked[:k]]

    def warm(self) -> float:
        """Read the whole index once (page it in); returns the seconds it took."""
        start = time.perf_counter()
        self.scanner.read_pass()
        return time.perf_counter() - start


def _load(path: Path, dtype, shape: tuple[int, ...], offset: int, in_memory: bool) -> np.ndarray:
    count = int(np.prod(shape))
    if count == 0:
        return np.empty(shape, dtype)
    if in_memory:
        return np.fromfile(path, dtype=dtype, count=count, offset=offset).reshape(shape)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def as_words(code: np.ndarray | bytes | list[int], words: int) -> np.ndarray:
    """Packed bits (uint8 bytes, a list of byte values, or uint64 words) as ``words`` uint64, zero-padded."""
    arr = np.asarray(bytearray(code) if isinstance(code, (bytes, bytearray)) else code)
    if arr.dtype == np.uint64:
        out = arr.reshape(-1)
    else:
        raw = arr.astype(np.uint8).reshape(-1)
        padded = np.zeros(-(-len(raw) // 8) * 8, np.uint8)
        padded[: len(raw)] = raw
        out = padded.view(np.uint64)
    if len(out) != words:
        raise IndexFormatError(f"query code has {len(out) * 8} bytes but the index stores {words * 8}-byte vectors "
                          "(use the embedder the index was built with)")
    return out


def pack_codes(floats: np.ndarray) -> np.ndarray:
    """Binary codes of float embeddings: ``packbits(x > 0)`` per row, zero-padded to whole 64-bit words."""
    bits = np.packbits(np.asarray(floats) > 0, axis=1)
    pad = (-bits.shape[1]) % 8
    if pad:
        bits = np.concatenate([bits, np.zeros((len(bits), pad), np.uint8)], axis=1)
    return np.ascontiguousarray(bits)


class IndexWriter:
    """Appends vectors to an index directory with commits that survive interruption.

    A commit appends codes, PMIDs and floats, flushes them to disk, then writes N into the header and
    the progress into meta.json. ``open`` on an unfinished directory truncates whatever was appended
    after the last commit, so a resumed build continues exactly where the last commit left off.
    """

    def __init__(self, directory: str | Path, *, vector_bytes: int, dims: int, store_floats: bool,
                 meta: dict[str, Any]):
        self.directory = Path(directory)
        self.vector_bytes = vector_bytes
        self.dims = dims
        self.store_floats = store_floats
        self.meta = meta

    @classmethod
    def open(cls, directory: str | Path, *, vector_bytes: int, dims: int, store_floats: bool = True,
             meta: dict[str, Any] | None = None, restart: bool = False) -> "IndexWriter":
        """Start a new index, or resume an unfinished one with the same embedder settings."""
        if vector_bytes % 8:
            raise ValueError("vector_bytes must be a multiple of 8")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        old = read_meta(directory)
        want = dict(meta or {}, dims=dims, vector_bytes=vector_bytes, floats=FLOATS_FILE if store_floats else None)
        if old and not restart:
            for key in ("embedder", "dims", "vector_bytes", "floats"):
                if old.get(key) != want.get(key):
                    raise IndexFormatError(f"{directory} holds an index built with {key}={old.get(key)!r}, not "
                                           f"{want.get(key)!r}: use --restart to rebuild it, or another --out")
            want = {**old, **{k: v for k, v in want.items() if k not in ("count", "last_key")}}
        elif (directory / DATA_FILE).exists() and not old and not restart:
            raise IndexFormatError(f"{directory} already holds a data.bin that was not built here; use another --out "
                                   "or --restart to overwrite it")
        writer = cls(directory, vector_bytes=vector_bytes, dims=dims, store_floats=store_floats, meta=want)
        writer._prepare(resume=bool(old) and not restart)
        return writer

    @property
    def count(self) -> int:
        return int(self.meta.get("count", 0))

    @property
    def last_key(self) -> str | None:
        """The articles-table key of the last committed article (None before the first commit)."""
        return self.meta.get("last_key")

    def _prepare(self, resume: bool) -> None:
        n = self.count if resume else 0
        if not resume:
            self.meta.update(count=0, last_key=None, complete=False, started=time.strftime("%Y-%m-%dT%H:%M:%S"))
        sizes = {DATA_FILE: HEADER_BYTES + n * self.vector_bytes, IDS_FILE: n * 8}
        if self.store_floats:
            sizes[FLOATS_FILE] = n * self.dims * 2
        else:
            (self.directory / FLOATS_FILE).unlink(missing_ok=True)
        for name, size in sizes.items():
            path = self.directory / name
            with open(path, "r+b" if path.exists() and resume else "wb") as fh:
                fh.truncate(size)  # drops rows appended after the last commit
        self._write_header(n)
        write_meta(self.directory, self.meta)

    def _write_header(self, n: int) -> None:
        with open(self.directory / DATA_FILE, "r+b") as fh:
            fh.write(np.array([n, self.vector_bytes], dtype="<i8").tobytes())
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, codes: np.ndarray, pmids: np.ndarray, floats: np.ndarray | None, last_key: str) -> None:
        """Append one batch (possibly empty) and commit it with the key of its last article."""
        pmids = np.ascontiguousarray(pmids, dtype="<i8")
        if len(pmids):
            self._append_rows(np.ascontiguousarray(codes, dtype=np.uint8), pmids, floats)
        n = self.count + len(pmids)
        self._write_header(n)
        self.meta.update(count=n, last_key=last_key)
        write_meta(self.directory, self.meta)

    def _append_rows(self, codes: np.ndarray, pmids: np.ndarray, floats: np.ndarray | None) -> None:
        if codes.shape != (len(pmids), self.vector_bytes):
            raise ValueError(f"codes of shape {codes.shape}, expected ({len(pmids)}, {self.vector_bytes})")
        files = [(DATA_FILE, codes.tobytes()), (IDS_FILE, pmids.tobytes())]
        if self.store_floats:
            if floats is None or np.shape(floats) != (len(pmids), self.dims):
                raise ValueError(f"this index stores {self.dims}-dim float vectors: pass one per article")
            files.append((FLOATS_FILE, np.ascontiguousarray(floats, dtype="<f2").tobytes()))
        for name, payload in files:
            with open(self.directory / name, "ab") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())

    def finish(self) -> None:
        """Mark the index complete."""
        self.meta.update(complete=True, finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
        write_meta(self.directory, self.meta)
