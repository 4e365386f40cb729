"""In-process PubMed search over a native index plus the articles database (no server needed).

``NativeSearcher`` embeds the query with the index's embedder, finds the nearest codes (exact
Hamming top-k), optionally re-ranks the candidates with the stored float vectors, and reads title,
authors, abstract and year from the SQLite articles table
``articles(pmid TEXT PRIMARY KEY, title, authors, abstract, publication_year)``.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from .embed import DEFAULT_EMBEDDER, Embedder, EmbedderError, embedder_dims, get_embedder
from .index import BinaryIndex, IndexFormatError
from .papers import Paper, PubmedError, PubmedUnavailable

RERANK_FACTOR = 10   # Hamming candidates per wanted paper when re-ranking
RERANK_MAX = 1000


class ArticlesDB:
    """Read-only access to the articles table, one connection per thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise PubmedUnavailable(f"the articles database {self.path} does not exist (set PUBMED_DB)")
        self._local = threading.local()
        cols = {r[1] for r in self._conn().execute("PRAGMA table_info(articles)")}
        missing = {"pmid", "title", "authors", "abstract", "publication_year"} - cols
        if missing:
            raise PubmedUnavailable(f"{self.path} has no usable articles table (missing columns: {', '.join(sorted(missing))}); "
                                    "expected articles(pmid TEXT PRIMARY KEY, title, authors, abstract, publication_year)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise PubmedUnavailable(f"cannot open the articles database {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def fetch(self, pmids: list[str]) -> dict[str, tuple]:
        """pmid -> (title, authors, abstract, publication_year) for those present."""
        out: dict[str, tuple] = {}
        for i in range(0, len(pmids), 900):  # SQLite's variable limit
            chunk = pmids[i:i + 900]
            marks = ",".join("?" * len(chunk))
            rows = self._conn().execute(
                f"SELECT pmid, title, authors, abstract, publication_year FROM articles WHERE pmid IN ({marks})", chunk)
            out.update({str(r[0]): r[1:] for r in rows})
        return out

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM articles").fetchone()[0])


class NativeSearcher:
    """Search a native index directory with the articles database, in this process."""

    name = "native"

    def __init__(self, index_dir: str | Path, db_path: str | Path, *, embedder: Embedder | str | None = None,
                 rerank: bool = True, threads: int = 2, in_memory: bool = False):
        try:
            self.index = BinaryIndex.open(index_dir, threads=threads, in_memory=in_memory)
        except (IndexFormatError, OSError) as exc:
            raise PubmedUnavailable(str(exc)) from exc
        self.db = ArticlesDB(db_path)
        try:
            if embedder is None or isinstance(embedder, str):
                embedder = get_embedder(embedder or self.index.meta.get("embedder") or DEFAULT_EMBEDDER)
        except EmbedderError as exc:
            raise PubmedUnavailable(str(exc)) from exc
        self.embedder = embedder
        self._check_compatible()
        self.rerank = rerank and self.index.floats is not None

    def _check_compatible(self) -> None:
        dims = embedder_dims(self.embedder)
        if dims is None:
            return
        code_bytes = -(-dims // 64) * 8
        if code_bytes != self.index.vector_bytes:
            raise PubmedUnavailable(
                f"the index {self.index.path} stores {self.index.vector_bytes}-byte vectors but the query embedder "
                f"{self.embedder.name} makes {code_bytes}-byte codes; an original (nomic-embed) index needs its "
                "embedding server as embedder (e.g. --embedder http://localhost:8002, or \"embedder\" in meta.json)")

    def describe(self) -> str:
        how = "re-ranked with float vectors" if self.rerank else "Hamming distance"
        return (f"native index {self.index.path} ({self.index.n:,} vectors of {self.index.vector_bytes} bytes, "
                f"{self.embedder.name}, {how}) with {self.db.path}")

    def embed(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(float vector, packed code) of one text, with the index's embedder."""
        try:
            floats, codes = self.embedder.encode([text])
        except EmbedderError:
            raise
        except Exception as exc:  # noqa: BLE001 - a model failure becomes a message, not a crash
            raise EmbedderError(f"{self.embedder.name} failed: {type(exc).__name__}: {exc}") from exc
        return floats[0], codes[0]

    def search(self, query: str, k: int = 40) -> list[Paper]:
        """The k nearest articles to ``query``, best first."""
        if not query.strip():
            raise PubmedError("empty query: the record names no entity to search the literature for")
        k = max(1, int(k))
        vec, code = self.embed(query)
        try:
            if self.rerank:
                hits = self.index.search(code, min(max(k * RERANK_FACTOR, k), RERANK_MAX, self.index.n))
                hits = self.index.rerank(vec, hits, k)
            else:
                hits = self.index.search(code, k)
        except IndexFormatError as exc:
            raise PubmedError(str(exc)) from exc
        rows = self.db.fetch([str(h.pmid) for h in hits])
        papers = []
        for h in hits:
            title, authors, abstract, year = rows.get(str(h.pmid), ("", "", None, None))
            papers.append(Paper.from_match({"pmid": h.pmid, "distance": h.distance, "authors": authors,
                                            "title": title, "abstract": abstract, "publication_year": year}))
        return papers

    find_matches = search


_SEARCHERS: dict[tuple, NativeSearcher] = {}
_LOCK = threading.Lock()


def native_searcher(index_dir: str | Path, db_path: str | Path, **kwargs) -> NativeSearcher:
    """A cached NativeSearcher per (index, db): the index is mapped once per process."""
    key = (str(Path(index_dir).resolve()), str(Path(db_path).resolve()), tuple(sorted(kwargs.items())))
    with _LOCK:
        if key not in _SEARCHERS:
            _SEARCHERS[key] = NativeSearcher(index_dir, db_path, **kwargs)
        return _SEARCHERS[key]


def clear_searchers() -> None:
    """Forget cached searchers (tests; after rebuilding an index)."""
    with _LOCK:
        _SEARCHERS.clear()
