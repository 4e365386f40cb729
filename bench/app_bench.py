"""Curation app benchmark: 10,000 traces / 200,000 claims in an SQLite database.

Times the review queue's first page, one trace's detail view (AppTest of the Review page), one claim
judgment stored, and the graph HTML of a 60-node explanation. Last output line: one JSON object.

    .venv/bin/python bench/app_bench.py [--traces 10000] [--claims-per-trace 20]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def seed(engine, n_traces: int, per_trace: int) -> None:
    """Bulk-insert batches, records, one run, traces, claims, verdicts and some curations (core inserts)."""
    from vcr_core.store.models import Batch, Claim, Curation, Record, Run, Trace, TraceVerdict, Verdict, utcnow

    now = utcnow()
    # Every trace carries a real explanation with one node per claim, so the detail view draws a graph.
    expl = chain_explanation(per_trace).model_dump(mode="json")
    with engine.begin() as c:
        c.execute(Batch.__table__.insert(), [{"name": "bench", "content_hash": "bench", "kind": "upload", "created_at": now,
                                              "n_records": n_traces}])
        c.execute(Run.__table__.insert(), [{"name": "bench", "batch_id": 1, "mode": "report-explain", "status": "done",
                                            "created_at": now, "model": "bench-model", "n_total": n_traces, "n_done": n_traces,
                                            "n_failed": 0, "n_invalid": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                            "cost_usd": 0.0}])
        c.execute(Record.__table__.insert(), [{"batch_id": 1, "index": str(i), "position": i, "label": f"drug{i} in cell{i % 50}",
                                               "perturbation_name": f"drug{i}", "created_at": now,
                                               "normalized": {"index": str(i), "shape": "single"}} for i in range(n_traces)])
        c.execute(Trace.__table__.insert(), [{"run_id": 1, "record_id": i + 1, "status": "ok", "source": "generated",
                                              "model": "bench-model", "n_claims": per_trace, "explanation": expl,
                                              "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "latency_s": 0.0,
                                              "report": "report", "created_at": now} for i in range(n_traces)])
        rng = random.Random(0)
        claims, verdicts = [], []
        cid = 0
        for t in range(1, n_traces + 1):
            for p in range(per_trace):
                cid += 1
                claims.append({"trace_id": t, "position": p, "node_id": f"n{p + 1}", "action": "inhibits",
                               "args": {"actor": f"drug{t}", "target": f"G{p}"}, "text": f'inhibits(actor="drug{t}", target="G{p}")',
                               "hash": f"h{t}_{p}"})
                verdicts.append({"trace_id": t, "claim_id": cid, "claim_hash": f"h{t}_{p}", "verifier": "kg", "version": "1",
                                 "verdict": rng.choice(["supported", "unverifiable", "contradicted"]), "score": 0.5,
                                 "created_at": now})
            if len(claims) >= 50_000:
                c.execute(Claim.__table__.insert(), claims)
                c.execute(Verdict.__table__.insert(), verdicts)
                claims, verdicts = [], []
        if claims:
            c.execute(Claim.__table__.insert(), claims)
            c.execute(Verdict.__table__.insert(), verdicts)
        c.execute(TraceVerdict.__table__.insert(), [{"trace_id": t, "verdict": rng.choice(["pass", "fail"]), "created_at": now}
                                                    for t in range(1, n_traces + 1)])
        # a tenth of the traces already curated, so the queue's ordering has work to do
        c.execute(Curation.__table__.insert(), [{"target": "trace", "trace_id": t, "curator": "bench", "judgment": "approve",
                                                 "created_at": now} for t in range(1, n_traces + 1, 10)])


def chain_explanation(n: int):
    """A chain explanation with ``n`` nodes (every seventh edge correlative)."""
    from vcr_core.formalism import parse_text

    lines = ['set_context(cell_type="A549")', 'binds_to(id="n1", actor="drugX", target="G1")']
    for i in range(2, n + 1):
        lines.append(f'inhibits(id="n{i}", actor="G{i - 1}", target="G{i}", via="n{i - 1}")')
    dag = [f'edge("n{i - 1}", "n{i}", relation="{"correlative" if i % 7 == 0 else "causal"}")' for i in range(2, n + 1)]
    result = parse_text("<explain>\n" + "\n".join(lines) + "\n</explain>\n<dag>\n" + "\n".join(dag) + "\n</dag>")
    assert result.explanation is not None and len(result.explanation.nodes) >= n, result.findings
    return result.explanation


def sixty_node_explanation():
    """The 60-node explanation whose graph HTML is timed."""
    return chain_explanation(60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=10_000)
    ap.add_argument("--claims-per-trace", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vcr_app_bench_"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    os.environ.update({"VCR_HOME": str(tmp), "DATABASE_URL": url, "APP_WORKER": "false", "OFFLINE": "true"})
    from vcr_core import curation as cur
    from vcr_core.store import get_engine
    from vcr_core.viz.graph import action_graph_html

    engine = get_engine(url)
    t0 = time.perf_counter()
    seed(engine, args.traces, args.claims_per_trace)
    print(f"seeded {args.traces} traces / {args.traces * args.claims_per_trace} claims in {time.perf_counter() - t0:.1f} s")

    cur.review_queue(engine, page=0)  # warm the connection pool and SQLite page cache once
    t0 = time.perf_counter()
    rows, total = cur.review_queue(engine, page=0)
    queue_s = time.perf_counter() - t0
    print(f"queue first page: {queue_s:.3f} s ({len(rows)} rows of {total})")

    from streamlit.testing.v1 import AppTest

    os.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.sidebar.text_input(key="curator_name").input("bench").run()
    at.switch_page("pages/review.py").run()
    t0 = time.perf_counter()
    at.run()  # one full rerun of the Review page: queue + trace detail + graph + claims table
    trace_view_s = time.perf_counter() - t0
    print(f"trace detail view (AppTest rerun of Review): {trace_view_s:.3f} s; exceptions: {len(at.exception)}; "
          f"graphs: {len(at.get('iframe'))}; claim blocks: {len(at.code)}")
    assert not at.exception and at.get("iframe") and len(at.code) == args.claims_per_trace, "the detail view did not render"

    claim_id = min(12345, args.traces * args.claims_per_trace)
    cur.judge_claim(engine, claim_id - 1, "bench", "accept")  # warm
    t0 = time.perf_counter()
    cur.judge_claim(engine, claim_id, "bench", "override", verdict="contradicted", tag="polarity", note="bench")
    judgment_ms = (time.perf_counter() - t0) * 1000
    print(f"one judgment stored: {judgment_ms:.1f} ms")

    expl = sixty_node_explanation()
    action_graph_html(expl)  # warm pyvis' template loading
    t0 = time.perf_counter()
    html = action_graph_html(expl)
    graph_ms = (time.perf_counter() - t0) * 1000
    print(f"graph HTML of {len(expl.nodes)} nodes: {graph_ms:.1f} ms ({len(html)} bytes)")
    print(json.dumps({"queue_page_s": round(queue_s, 3), "trace_view_s": round(trace_view_s, 3),
                      "judgment_ms": round(judgment_ms, 1), "graph_html_ms": round(graph_ms, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
