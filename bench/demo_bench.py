"""The keyless demo path: from an empty database, with no provider key, ingest the demo records and a
file of real records, generate with the default (assembly from knowledge), verify, and measure.

seconds_per_record: wall time of the generate runs divided by the records (process start and the one-time
load of the knowledge graph and GO annotations excluded; both are reported apart). valid_share: traces
without error findings. claims_with_source_share: claims whose ``via`` names a source and that carry at
least one evidence item. inferred_share: claims labelled ``confidence="inferred"``. Last output line: one
JSON object.

    .venv/bin/python bench/demo_bench.py [--records bench/real_records.json ...] [--no-verify]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "DEFAULT_MODEL")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", default=str(ROOT / "data" / "demo_records.json"))
    ap.add_argument("--records", nargs="*", default=[str(ROOT / "bench" / "real_records.json")],
                    help="further record files (either input shape)")
    ap.add_argument("--no-verify", action="store_true", help="skip the verification run")
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args(argv)

    for k in KEYS:
        os.environ.pop(k, None)  # no provider key: the default is assembly from knowledge
    os.environ.setdefault("OFFLINE", "true")
    tmp = tempfile.mkdtemp(prefix="vcr-demo-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"  # an empty database; caches stay in VCR_HOME

    from sqlmodel import select

    from vcr_core.agents.assembler import ASSEMBLER_NAME, claims_with_source, inferred_claims, load_knowledge
    from vcr_core.files.ingest import ingest_file
    from vcr_core.formalism import Explanation
    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs import Worker
    from vcr_core.kernel.settings import get_settings
    from vcr_core.llm import resolve_model
    from vcr_core.store import Trace, get_engine, session_scope

    get_settings.cache_clear()
    assert resolve_model().is_knowledge, "a provider key is still configured"
    engine = get_engine()
    t0 = time.perf_counter()
    kb = load_knowledge()
    load_s = time.perf_counter() - t0
    runs, n_records = [], 0
    gen_s = 0.0
    for path in [args.demo, *args.records]:
        res = ingest_file(engine, path)
        assert res.ok, [str(p) for p in res.problems[:5]]
        run_id = create_run(engine, batch_id=res.batch_id, tools=[], model_type=None, mode="explain-only",
                            options={"concurrency": args.concurrency})
        start = time.perf_counter()
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
        gen_s += time.perf_counter() - start
        p = run_progress(engine, run_id)
        runs.append(run_id)
        n_records += p["n_total"]
    verify_s = None
    if not args.no_verify:
        start = time.perf_counter()
        Worker(engine, exit_when_idle=True, kinds=("verify",)).run()
        verify_s = round(time.perf_counter() - start, 2)
    with session_scope(engine) as s:
        traces = s.exec(select(Trace).where(Trace.run_id.in_(runs))).all()
        rows = [(t.findings or [], t.explanation, ((t.tool_context or {}).get(ASSEMBLER_NAME) or {}), t.errors) for t in traces]
    valid = sum(1 for f, *_ in rows if not any(x.get("severity") == "error" for x in f))
    n_claims = src = inf = 0
    per_trace = []
    for _, expl_json, entry, _ in rows:
        expl = Explanation.model_validate(expl_json) if expl_json else Explanation()
        ev = (entry.get("evidence") or {}).get("claims") or {}
        n_claims += len(expl.claims)
        src += claims_with_source(expl, ev)
        inf += inferred_claims(expl)
        per_trace.append(len(expl.claims))
    incomplete = [e[0] for *_, e in rows if e]
    out = {"records": n_records, "traces": len(rows), "seconds_per_record": round(gen_s / max(1, n_records), 3),
           "valid_share": round(valid / max(1, len(rows)), 3),
           "claims_with_source_share": round(src / max(1, n_claims), 3),
           "inferred_share": round(inf / max(1, n_claims), 3),
           "median_claims": statistics.median(per_trace) if per_trace else 0, "claims": n_claims,
           "knowledge_load_s": round(load_s, 2), "verify_s": verify_s,
           "gene_ontology": kb.orgdb is not None, "gene_ontology_reason": kb.orgdb_reason,
           "graph": kb.graph_origin if kb.graph is not None else kb.graph_reason,
           "incomplete": incomplete[:5], "files": [Path(p).name for p in [args.demo, *args.records]]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
