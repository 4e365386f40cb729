"""Benchmark of the native PubMed index: scan speed against the memory floor, and retrieval quality.

    python bench/pubmed_bench.py [--eval-dir DIR] [--n N]

1. Speed: N random 64-byte codes (default 36,510,005, the real index size) with int64 PMIDs, k = 40.
   Measured in the same run and interleaved, so machine noise hits both alike:
   - the single-query latency (median of >= 20 queries),
   - one plain sequential read pass over the codes with the same threads (the memory-bandwidth floor),
   - the per-query time of a batch of 16 queries answered in one pass;
   and the peak resident memory against the index size (codes + PMIDs).
2. Quality: the 1,000 PubMedQA abstracts go into an SQLite articles table, are indexed with
   ``vcr pubmed build-index``'s code (all-MiniLM-L6-v2, 48-byte codes + float16 vectors), and each
   question is searched: recall@10 of its own abstract, with and without float re-ranking.

The last line of output is one JSON object: n, query_p50_ms, floor_ms, ratio_to_floor,
batch16_per_query_ms, recall_at_10 (plus memory and the Hamming-only recall).
"""
from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peak import own_peak_mb as peak_rss_mb  # noqa: E402 - bench/peak.py, beside this script
from vcr_core.tools.pubmed.index import BinaryIndex  # noqa: E402




def speed(n: int, queries: int, k: int, threads: int, seed: int = 0) -> dict:
    t0 = time.perf_counter()
    codes = np.random.PCG64(seed).random_raw(n * 8).reshape(n, 8)  # 64-byte codes as 8 uint64 words
    ids = np.arange(1, n + 1, dtype=np.int64)
    index = BinaryIndex(codes, ids, threads=threads)
    index_mb = (codes.nbytes + ids.nbytes) / 2**20
    print(f"generated {n:,} random 64-byte codes ({index_mb:,.0f} MB with PMIDs) in {time.perf_counter() - t0:.1f} s",
          flush=True)
    rng = np.random.default_rng(seed + 1)
    qs = rng.integers(0, 2**63, size=(queries + 16, 8), dtype=np.uint64)
    index.scanner.search(qs[0], k)  # compile / load the kernel, page everything in
    index.warm()
    floor, lat = [], []
    for i in range(queries):  # interleaved: each query next to a read pass
        t = time.perf_counter()
        index.scanner.read_pass()
        floor.append(time.perf_counter() - t)
        t = time.perf_counter()
        d, rows = index.scanner.search(qs[i], k)
        lat.append(time.perf_counter() - t)
        assert len(rows) == k and np.all(np.diff(d) >= 0)
    batch = []
    for _ in range(3):
        t = time.perf_counter()
        index.scanner.search_batch(qs[queries:queries + 16], k)
        batch.append((time.perf_counter() - t) / 16)
    q50, f50 = statistics.median(lat) * 1e3, statistics.median(floor) * 1e3
    out = {"n": n, "query_p50_ms": round(q50, 1), "query_min_ms": round(min(lat) * 1e3, 1),
           "floor_ms": round(f50, 1), "floor_min_ms": round(min(floor) * 1e3, 1),
           "ratio_to_floor": round(q50 / f50, 3), "batch16_per_query_ms": round(statistics.median(batch) * 1e3, 1),
           "index_mb": round(index_mb), "peak_rss_mb": round(peak_rss_mb()),
           "memory_ratio": round(peak_rss_mb() / index_mb, 3), "threads": threads, "kernel": index.scanner.backend}
    print(f"single query p50 {q50:.1f} ms (min {min(lat) * 1e3:.1f}); read pass p50 {f50:.1f} ms (min {min(floor) * 1e3:.1f}); "
          f"ratio {q50 / f50:.3f}; batch of 16: {out['batch16_per_query_ms']} ms per query; "
          f"peak RSS {out['peak_rss_mb']:,} MB = {out['memory_ratio']:.3f} x index", flush=True)
    del index, codes, ids
    gc.collect()
    return out


def load_pubmedqa(eval_dir: Path) -> list[tuple[str, str, str]]:
    """(pmid, abstract, question) of PubMedQA's 1,000 expert-labelled items."""
    data = json.loads((eval_dir / "pubmedqa_ori_pqal.json").read_text())
    rows = []
    for pmid, item in data.items():
        abstract = " ".join(item["CONTEXTS"] + [item.get("LONG_ANSWER") or ""]).strip()  # the whole abstract
        rows.append((str(pmid), abstract, item["QUESTION"]))
    return rows


def recall(eval_dir: Path, k: int = 10) -> dict:
    from vcr_core.tools.pubmed.build import build_index
    from vcr_core.tools.pubmed.native import NativeSearcher

    rows = load_pubmedqa(eval_dir)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "pubmedqa.db"
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE articles (pmid TEXT PRIMARY KEY, title, authors, abstract, publication_year)")
        conn.executemany("INSERT INTO articles VALUES (?, '', '', ?, NULL)", [(p, a) for p, a, _ in rows])
        conn.commit()
        conn.close()
        t = time.perf_counter()
        summary = build_index(db, Path(tmp) / "index", embedder="minilm", batch_size=64, progress=False)
        build_s = time.perf_counter() - t
        reranked = NativeSearcher(Path(tmp) / "index", db)
        hamming = NativeSearcher(Path(tmp) / "index", db, rerank=False)
        hits_r = hits_h = 0
        t = time.perf_counter()
        for pmid, _, question in rows:
            hits_r += pmid in {p.pmid for p in reranked.search(question, k)}
            hits_h += pmid in {p.pmid for p in hamming.search(question, k)}
        per_query = (time.perf_counter() - t) / (2 * len(rows))
    out = {"recall_at_10": round(hits_r / len(rows), 3), "recall_at_10_hamming_only": round(hits_h / len(rows), 3),
           "articles": summary.count, "build_s": round(build_s, 1), "recall_query_ms": round(per_query * 1e3, 1)}
    print(f"PubMedQA: {summary.count} abstracts indexed in {build_s:.1f} s; recall@10 {out['recall_at_10']} "
          f"(re-ranked), {out['recall_at_10_hamming_only']} (Hamming only)", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval",
                    help="directory with pubmedqa_ori_pqal.json (default ../shared/eval)")
    ap.add_argument("--n", type=int, default=36_510_005, help="number of random vectors (default 36,510,005)")
    ap.add_argument("--queries", type=int, default=21, help="single queries timed (default 21)")
    ap.add_argument("--threads", type=int, default=2, help="search threads (default 2)")
    args = ap.parse_args()
    result = speed(args.n, max(20, args.queries), 40, args.threads)
    if (args.eval_dir / "pubmedqa_ori_pqal.json").exists():
        result.update(recall(args.eval_dir))
    else:
        print(f"skipping recall: {args.eval_dir}/pubmedqa_ori_pqal.json not found", flush=True)
        result["recall_at_10"] = None
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
