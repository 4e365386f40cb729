"""Build a native index from an SQLite articles database (``vcr pubmed build-index``).

Articles are read in primary-key order in batches; each batch is embedded (title + abstract) and
committed (see :class:`.index.IndexWriter`), so an interrupted build resumes at the next article.
Articles with neither title nor abstract, or with a PMID that is not a number, are skipped and
counted.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embed import DEFAULT_EMBEDDER, Embedder, get_embedder
from .index import IndexWriter
from .papers import PubmedUnavailable


@dataclass
class BuildSummary:
    """What a build did: articles in the index, added now, skipped now, seconds, directory."""

    count: int
    added: int
    skipped: int
    seconds: float
    out: Path
    complete: bool


def article_text(title: str | None, abstract: str | None) -> str:
    """The text embedded for an article: its title, then its abstract."""
    parts = [t.strip() for t in (title, abstract) if t and t.strip() and t.strip() != "Abstract not found"]
    return ". ".join(parts)


def _open_db(path: Path) -> sqlite3.Connection:
    if not Path(path).exists():
        raise PubmedUnavailable(f"the articles database {path} does not exist")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    cols = {r[1] for r in conn.execute("PRAGMA table_info(articles)")}
    if not {"pmid", "title", "abstract"} <= cols:
        raise PubmedUnavailable(f"{path} has no articles(pmid, title, authors, abstract, publication_year) table")
    return conn


def _probe_dims(embedder: Embedder) -> tuple[int, int]:
    floats, codes = embedder.encode(["dimension probe"])
    return floats.shape[1], codes.shape[1]


def build_index(db_path: str | Path, out_dir: str | Path, *, embedder: str | Embedder = DEFAULT_EMBEDDER,
                batch_size: int = 256, store_floats: bool = True, restart: bool = False,
                limit: int | None = None, progress: bool = True) -> BuildSummary:
    """Embed the articles of ``db_path`` into the index directory ``out_dir`` (resuming when unfinished)."""
    from tqdm import tqdm

    start = time.perf_counter()
    emb = get_embedder(embedder) if isinstance(embedder, str) else embedder
    dims, code_bytes = _probe_dims(emb)
    conn = _open_db(Path(db_path))
    writer = IndexWriter.open(out_dir, vector_bytes=code_bytes, dims=dims, store_floats=store_floats, restart=restart,
                              meta={"embedder": emb.spec, "embedder_name": emb.name, "source_db": str(Path(db_path).resolve())})
    last = writer.last_key
    where, args = ("WHERE pmid > ?", [last]) if last is not None else ("", [])
    remaining = conn.execute(f"SELECT count(*) FROM articles {where}", args).fetchone()[0]
    total = min(remaining, limit) if limit else remaining
    added = skipped = seen = 0
    bar = tqdm(total=total, unit="article", desc="embedding articles", disable=not progress, initial=0)
    try:
        while seen < total:
            take = min(batch_size, total - seen)
            rows = conn.execute(f"SELECT pmid, title, abstract FROM articles {where} ORDER BY pmid LIMIT ?",
                                args + [take]).fetchall()
            if not rows:
                break
            batch = [(int(str(p).strip()), article_text(t, a)) for p, t, a in rows
                     if str(p).strip().isdigit() and article_text(t, a)]
            skipped += len(rows) - len(batch)
            if batch:
                floats, codes = emb.encode([text for _, text in batch])
                writer.append(codes, np.array([p for p, _ in batch], np.int64), floats if store_floats else None,
                              last_key=str(rows[-1][0]))
            else:
                writer.append(np.empty((0, code_bytes), np.uint8), np.empty(0, np.int64),
                              np.empty((0, dims), np.float32), last_key=str(rows[-1][0]))
            added += len(batch)
            seen += len(rows)
            where, args = "WHERE pmid > ?", [str(rows[-1][0])]
            bar.update(len(rows))
    finally:
        bar.close()
        conn.close()
    done = seen >= remaining
    if done:
        writer.finish()
    return BuildSummary(writer.count, added, skipped, time.perf_counter() - start, Path(out_dir), done)
