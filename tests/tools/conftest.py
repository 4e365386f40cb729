"""Fixtures for the context tools: a small articles database, a built index, and fresh tool state."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

TOPICS = {
    "imatinib": "imatinib inhibits the BCR-ABL tyrosine kinase in chronic myeloid leukemia K562 cells",
    "tamoxifen": "tamoxifen blocks the estrogen receptor ESR1 in MCF7 breast cancer cells",
    "metformin": "metformin activates AMPK and lowers hepatic glucose output in diabetes",
    "trametinib": "trametinib inhibits MEK1 MEK2 and ERK signalling in BRAF mutant melanoma",
    "olaparib": "olaparib traps PARP1 on DNA and kills BRCA1 deficient ovarian cancer cells",
    "dexamethasone": "dexamethasone binds the glucocorticoid receptor NR3C1 and suppresses inflammation",
}


def make_articles_db(path: Path, n_per_topic: int = 40, *, extra: list[tuple] = ()) -> Path:
    """An SQLite file in the pubmed-vectors schema with synthetic articles on a few topics.

    PMIDs are spread so text order differs from number order; a few rows have no abstract, one has
    a non-numeric PMID and one has no text at all (both must be skipped).
    """
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (pmid TEXT PRIMARY KEY, title TEXT, authors TEXT, abstract TEXT, publication_year INTEGER)")
    rows = []
    pmid = 1000
    for i in range(n_per_topic):
        for j, (topic, sentence) in enumerate(TOPICS.items()):
            pmid += 7 + (i * 13 + j * 29) % 50
            abstract = None if (i + j) % 17 == 0 else f"{sentence}. Study {i} measured outcome {i % 5} in cohort {j}."
            rows.append((str(pmid), f"{topic.title()} study {i}", f"Author{i} A, Writer{j} B", abstract, 1990 + (i + j) % 30))
    rows += [("PMC-BAD", "not a PubMed id", "", "ignored text", 2000), ("999", "", "", None, 2001), *extra]
    conn.executemany("INSERT INTO articles VALUES (?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def articles_db(tmp_path) -> Path:
    return make_articles_db(tmp_path / "pubmed_data.db")


@pytest.fixture
def hashing_index(tmp_path, articles_db) -> Path:
    """A built index (hashing:256 embedder, float vectors stored) of ``articles_db``."""
    from vcr_core.tools.pubmed.build import build_index

    out = tmp_path / "index"
    build_index(articles_db, out, embedder="hashing:256", batch_size=64, progress=False)
    return out


@pytest.fixture(autouse=True)
def _fresh_literature_state():
    """No cached backends, searchers, embedders' probes or limiters leak between tests."""
    from vcr_core.net.http import clear_probes
    from vcr_core.tools import base
    from vcr_core.tools.pubmed import reset_backends

    reset_backends()
    clear_probes()
    base.reset_tools()
    yield
    reset_backends()
    clear_probes()
    base.reset_tools()
