"""The keyless demo path: from an empty database, with no provider key, ingest the demo records and a
file of real records, generate with the default (assembly from knowledge), verify, and measure.

seconds_per_record: wall time of the generate runs divided by the records (process start and the one-time
load of the knowledge graph and GO annotations excluded; both are reported apart). valid_share: traces
without error findings. claims_with_source_share: claims whose ``via`` names a source and that carry at
least one evidence item. inferred_share: claims labelled ``confidence="inferred"``.

Per record file (``per_file``; issue 24 reads the set ``any_perturbation_records.json``: name-only drugs,
knockouts and other genetic perturbations, soluble factors, antibodies, non-cancer contexts):
valid_share, median_claims, measurable_end_share (traces with at least one claim whose every path, i.e. every
claim no edge leaves, ends on a measurable output), circular_supported (claims whose only supporting verdicts
come from a verifier whose source the claim was assembled from: must be 0), seconds_per_record, and, where a
hand-labelled audit exists beside the file (``<name>_audit.json``: each assembled claim true / false / doubtful
with the reason), assembled_false_share over the audited claims and the claims not yet audited.
Last output line: one JSON object.

    .venv/bin/python bench/demo_bench.py [--records bench/real_records.json ...] [--no-verify]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
from collections import Counter
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
    ap.add_argument("--records", nargs="*", default=[str(ROOT / "bench" / "real_records.json"),
                                                     str(ROOT / "bench" / "any_perturbation_records.json")],
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
    file_runs: dict[str, tuple[int, float, int]] = {}
    for path in [args.demo, *args.records]:
        res = ingest_file(engine, path)
        assert res.ok, [str(p) for p in res.problems[:5]]
        run_id = create_run(engine, batch_id=res.batch_id, tools=[], model_type=None, mode="explain-only",
                            options={"concurrency": args.concurrency})
        start = time.perf_counter()
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
        took = time.perf_counter() - start
        gen_s += took
        p = run_progress(engine, run_id)
        runs.append(run_id)
        n_records += p["n_total"]
        file_runs[path] = (run_id, took, p["n_total"])
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
           "incomplete": incomplete[:5], "files": [Path(p).name for p in [args.demo, *args.records]],
           "per_file": {Path(path).name: file_metrics(engine, run_id, took, n, Path(path), verified=not args.no_verify)
                        for path, (run_id, took, n) in file_runs.items()}}
    print(json.dumps(out))
    return out


def _claim_key(action: str, args: dict) -> str:
    """A claim as the audit file names it: primitive and arguments, sorted."""
    return action + "(" + ", ".join(f"{k}={args[k]}" for k in sorted(args)) + ")"


def file_metrics(engine, run_id: int, took: float, n_records: int, path: Path, verified: bool = True) -> dict:
    """The issue-24 measures for one record file's run (see the module docstring)."""
    from sqlmodel import select

    from vcr_core.agents.assembler import ASSEMBLER_NAME
    from vcr_core.formalism import MEASURABLE_OUTPUTS, Explanation
    from vcr_core.store import Claim, Record, Trace, Verdict, session_scope
    from vcr_core.verify.base import counts_as_support
    from vcr_core.verify.runner import assembled_sources

    with session_scope(engine) as s:
        rows = s.exec(select(Trace, Record.index).join(Record, Record.id == Trace.record_id).where(Trace.run_id == run_id)).all()
        traces = [(t.id, idx, t.findings or [], t.explanation, t.tool_context or {}) for t, idx in rows]
        claims = {c.id: c for c in s.exec(select(Claim).where(Claim.trace_id.in_([t[0] for t in traces]))).all()}
        verdicts = s.exec(select(Verdict).where(Verdict.trace_id.in_([t[0] for t in traces]), Verdict.claim_id.is_not(None))).all()
    per_trace, measurable, valid = [], 0, 0
    by_trace_built = {tid: assembled_sources(tc) for tid, _, _, _, tc in traces}
    assembled_keys: list[tuple[str, str]] = []
    for tid, idx, findings, expl_json, tc in traces:
        expl = Explanation.model_validate(expl_json) if expl_json else Explanation()
        per_trace.append(len(expl.claims))
        valid += not any(f.get("severity") == "error" for f in findings)
        sinks = {n.id for n in expl.claims} - {e.source for e in expl.edges}
        measurable += bool(expl.claims) and all(expl.node(x).action in MEASURABLE_OUTPUTS for x in sinks)
        if ASSEMBLER_NAME in tc:
            assembled_keys += [(str(idx), _claim_key(n.action, n.args)) for n in expl.claims]
    support: dict[int, set[str]] = {}
    for v in verdicts:
        if v.verdict == "supported" and counts_as_support(v.verifier):
            support.setdefault(v.claim_id, set()).add(v.verifier)
    circular = sum(1 for cid, names in support.items()
                   if names <= set(by_trace_built.get(claims[cid].trace_id, {}).get(claims[cid].node_id, [])))
    n = max(1, len(traces))
    out = {"records": n_records, "valid_share": round(valid / n, 3),
           "median_claims": statistics.median(per_trace) if per_trace else 0,
           "measurable_end_share": round(measurable / n, 3),
           "circular_supported": circular if verified else None,
           "supported_claims": len(support) if verified else None,
           "by_construction_verdicts": sum(1 for v in verdicts if any(isinstance(e, dict) and e.get("kind") == "by_construction"
                                                                   for e in v.evidence or [])) if verified else None,
           "verdicts": dict(sorted(Counter(f"{v.verifier}:{v.verdict}" for v in verdicts).items())) if verified else None,
           "seconds_per_record": round(took / max(1, n_records), 3)}
    audit_path = path.with_name(path.stem.replace("_records", "") + "_audit.json")
    if audit_path.exists():
        labels = {(str(a["record"]), a["claim"]): a["label"] for a in json.loads(audit_path.read_text())["claims"]}
        audited = [labels[k] for k in assembled_keys if k in labels]
        out.update({"audited_claims": len(audited), "unaudited_claims": len(assembled_keys) - len(audited),
                    "assembled_false_share": round(audited.count("false") / max(1, len(audited)), 3),
                    "assembled_doubtful_share": round(audited.count("doubtful") / max(1, len(audited)), 3)})
    return out


if __name__ == "__main__":
    main()
