"""The native index: writer and reader on a small SQLite database, against brute-force search."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from vcr_core.tools.pubmed.build import article_text, build_index
from vcr_core.tools.pubmed.embed import HashingEmbedder, get_embedder
from vcr_core.tools.pubmed.index import BinaryIndex, IndexFormatError, pack_codes, read_header, read_meta
from vcr_core.tools.pubmed.kernel import HAVE_NUMBA, HammingScanner, hamming_distances
from vcr_core.tools.pubmed.native import NativeSearcher
from vcr_core.tools.pubmed.papers import PubmedUnavailable


def _db_articles(db):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT pmid, title, abstract FROM articles ORDER BY pmid").fetchall()
    conn.close()
    return [(int(p), article_text(t, a)) for p, t, a in rows if p.isdigit() and article_text(t, a)]


def test_build_writes_original_layout(hashing_index, articles_db):
    articles = _db_articles(articles_db)
    data = (hashing_index / "data.bin").read_bytes()
    n, vector_bytes = np.frombuffer(data[:16], dtype="<i8")
    assert n == len(articles) == 240  # the non-numeric PMID and the empty article are skipped
    assert vector_bytes == 32  # 256-bit codes: the real bytes per vector (the original wrote 8 for 64 bytes)
    assert len(data) == 16 + n * 32
    ids = np.fromfile(hashing_index / "ids.bin", dtype="<i8")
    assert ids.tolist() == [p for p, _ in articles]  # primary-key order
    meta = read_meta(hashing_index)
    assert meta["complete"] and meta["embedder"] == "hashing:256" and meta["count"] == 240
    # the codes are packbits(x > 0) of the embedder's vectors, row by row
    floats = HashingEmbedder(256).embed([t for _, t in articles[:5]])
    assert np.frombuffer(data[16:16 + 5 * 32], np.uint8).reshape(5, 32).tolist() == pack_codes(floats).tolist()


def test_hamming_topk_equals_brute_force_with_pmid_ties(hashing_index):
    index = BinaryIndex.open(hashing_index)
    emb = get_embedder("hashing:256")
    for query in ["imatinib K562 leukemia", "PARP1 BRCA1 ovarian", "estrogen receptor", "zzz unrelated words"]:
        _, code = emb.encode([query])
        hits = index.search(code[0], 25)
        dist = hamming_distances(np.asarray(index.codes), np.frombuffer(code[0].tobytes(), np.uint64))
        order = np.lexsort((np.asarray(index.ids), dist))[:25]  # distance, then ascending PMID
        assert [h.pmid for h in hits] == [int(index.ids[i]) for i in order]
        assert [h.distance for h in hits] == [float(dist[i]) for i in order]


def test_rerank_over_everything_equals_brute_force_float_search(hashing_index):
    index = BinaryIndex.open(hashing_index)
    emb = get_embedder("hashing:256")
    floats = np.asarray(index.floats, dtype=np.float32)
    for query in ["olaparib PARP1", "metformin AMPK glucose", "trametinib melanoma MEK"]:
        vec, code = emb.encode([query])
        ranked = index.rerank(vec[0], index.search(code[0], index.n), 10)
        cos = floats @ vec[0] / np.linalg.norm(floats, axis=1)
        best = np.sort(1 - cos)[:10]
        assert [h.distance for h in ranked] == pytest.approx(best.tolist(), abs=1e-5)
        by_pmid = dict(zip(np.asarray(index.ids).tolist(), (1 - cos).tolist()))
        assert all(by_pmid[h.pmid] == pytest.approx(h.distance, abs=1e-5) for h in ranked)


def test_native_search_default_rerank_finds_float_neighbours(hashing_index, articles_db):
    searcher = NativeSearcher(hashing_index, articles_db)
    assert searcher.rerank and "hashing" in searcher.describe()
    emb = get_embedder("hashing:256")
    floats = np.asarray(searcher.index.floats, dtype=np.float32)
    overlap = []
    for _, text in _db_articles(articles_db)[::23]:
        papers = searcher.search(text, 10)
        cos = floats @ emb.embed([text])[0]
        brute = {int(searcher.index.ids[i]) for i in np.argsort(-cos)[:10]}
        overlap.append(len(brute & {int(p.pmid) for p in papers}) / 10)
        assert papers[0].abstract is None or papers[0].title  # rows come back with their article fields
    assert np.mean(overlap) >= 0.9


def test_own_article_is_found_first_with_its_fields(hashing_index, articles_db):
    searcher = NativeSearcher(hashing_index, articles_db)
    conn = sqlite3.connect(articles_db)
    pmid, title, authors, abstract, year = conn.execute(
        "SELECT * FROM articles WHERE abstract IS NOT NULL AND pmid != 'PMC-BAD' LIMIT 1 OFFSET 17").fetchone()
    top = searcher.search(article_text(title, abstract), 3)[0]
    assert (top.pmid, top.title, top.authors, top.abstract, top.year) == (pmid, title, authors, abstract, year)
    assert top.distance == pytest.approx(0.0, abs=1e-3)


def test_resume_after_interruption_gives_identical_index(tmp_path, articles_db):
    full = tmp_path / "full"
    build_index(articles_db, full, embedder="hashing:256", batch_size=50, progress=False)
    part = tmp_path / "part"
    first = build_index(articles_db, part, embedder="hashing:256", batch_size=50, limit=120, progress=False)
    assert not first.complete and first.count < 240
    # a crash after appending rows that were never committed: garbage beyond the committed end
    with open(part / "data.bin", "ab") as fh:
        fh.write(b"\xff" * 100)
    with open(part / "ids.bin", "ab") as fh:
        fh.write(b"\x01" * 24)
    assert BinaryIndex.open(part).n == first.count  # readers trust the header's N
    second = build_index(articles_db, part, embedder="hashing:256", batch_size=50, progress=False)
    assert second.complete and second.count == 240 and second.added == 240 - first.count
    for name in ("data.bin", "ids.bin", "floats.f16"):
        assert (part / name).read_bytes() == (full / name).read_bytes(), name


def test_resume_refuses_a_different_embedder(tmp_path, articles_db):
    out = tmp_path / "idx"
    build_index(articles_db, out, embedder="hashing:256", limit=10, progress=False)
    with pytest.raises(IndexFormatError, match="--restart"):
        build_index(articles_db, out, embedder="hashing:128", progress=False)
    done = build_index(articles_db, out, embedder="hashing:128", restart=True, progress=False)
    assert done.count == 240 and read_header(out / "data.bin") == (240, 16)


def test_reader_opens_original_header_forms(tmp_path):
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, size=(50, 64), dtype=np.uint8)
    ids = np.arange(100, 150, dtype="<i8")
    for second_field in (8, 64):  # the original's word count, and a byte count
        d = tmp_path / f"orig{second_field}"
        d.mkdir()
        (d / "data.bin").write_bytes(np.array([50, second_field], "<i8").tobytes() + codes.tobytes())
        ids.tofile(d / "ids.bin")
        index = BinaryIndex.open(d)
        assert index.n == 50 and index.vector_bytes == 64 and index.floats is None and index.meta == {}
        hits = index.search(codes[7], 1)
        assert hits[0].pmid == 107 and hits[0].distance == 0


def test_reader_reports_broken_directories(tmp_path):
    with pytest.raises(IndexFormatError, match="data.bin not found"):
        BinaryIndex.open(tmp_path)
    (tmp_path / "data.bin").write_bytes(np.array([10, 8], "<i8").tobytes() + b"\0" * 64)
    (tmp_path / "ids.bin").write_bytes(b"\0" * 80)
    with pytest.raises(IndexFormatError, match="truncated"):
        BinaryIndex.open(tmp_path)


def test_query_embedder_must_match_the_index(tmp_path, hashing_index, articles_db):
    with pytest.raises(PubmedUnavailable, match="32-byte vectors"):
        NativeSearcher(hashing_index, articles_db, embedder="hashing:512")
    with pytest.raises(PubmedUnavailable, match="articles database"):
        NativeSearcher(hashing_index, tmp_path / "missing.db")
    bad = tmp_path / "bad.db"
    sqlite3.connect(bad).execute("CREATE TABLE other (x)").connection.commit()
    with pytest.raises(PubmedUnavailable, match="articles table"):
        NativeSearcher(hashing_index, bad)


@pytest.mark.parametrize("backend", ["numpy"] + (["numba"] if HAVE_NUMBA else []))
@pytest.mark.parametrize("threads", [1, 3])
def test_kernels_agree_with_brute_force_on_heavy_ties(backend, threads):
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2**63, size=(5000, 2), dtype=np.uint64)
    codes[::3] = codes[11]  # a third of the rows tie at distance 0 from query 11
    ids = rng.permutation(5000).astype(np.int64) * 3 + 5
    scanner = HammingScanner(codes, ids, threads=threads, backend=backend)
    for q in (codes[11], codes[12], ~codes[12]):
        d, rows = scanner.search(q, 40)
        full = hamming_distances(codes, q)
        order = np.lexsort((ids, full))[:40]
        assert rows.tolist() == order.tolist() and d.tolist() == full[order].tolist()
    batch = scanner.search_batch(np.stack([codes[11], codes[12]]), 40)
    assert [b[1].tolist() for b in batch] == [scanner.search(codes[i], 40)[1].tolist() for i in (11, 12)]
    scanner.read_pass()


def test_k_larger_than_index_and_empty_index(tmp_path):
    codes = np.arange(6, dtype=np.uint64).reshape(3, 2)
    scanner = HammingScanner(codes, np.array([3, 1, 2], np.int64))
    d, rows = scanner.search(codes[0], 10)
    assert len(rows) == 3 and rows[0] == 0
    with pytest.raises(ValueError, match="bytes"):
        scanner.search(np.zeros(3, np.uint64), 2)
    empty = HammingScanner(np.empty((0, 2), np.uint64), np.empty(0, np.int64))
    assert empty.search(codes[0], 5)[0].size == 0
