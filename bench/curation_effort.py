"""Curation effort with and without reuse of judgments on a claim's core (issue 21).

**Effort.** A Tahoe-like grid: ``--drugs`` (40) real drugs x ``--cells`` (10) real cell lines, and two
"models" explaining every (drug, cell line) record, so ``2 x drugs x cells`` traces (800), saved through
``save_trace`` and grounded as generation does (``after_save``: the real gene resolver and NER dictionary).
The two models word one fact differently: target symbol vs synonym ("ABL1" / "c-ABL", "EGFR" / "ErbB1",
"MEK1/2" / "MEK" - families stay families), "MYC" / "c-Myc", drug name case, and free text (via, affinity,
mechanism) only one of them writes. Claims per trace and the rules that label them (true/false per context):

1. ``binds_to(drug, target)``                       - true everywhere (scope any);
2. ``modulates_molecule_activity(target, down)``      - true for the drug in every cell line (scope perturbation);
3. ``binds_to(drug, HDAC1)`` (model B, even drugs)    - false everywhere (a made-up off-target);
4. ``modulates_pathway_activity(MAPK signaling, down)``, 5. ``regulates_expression(target -> MYC down)``,
6. ``induces_phenotype(drug, apoptosis)``           - true iff the cell line is sensitive to the drug:
   ``(7 * drug_index + 3 * cell_index) % 4 != 0``, else false (scope context).

An oracle curator takes the app's core queue (:func:`vcr_core.curation.reuse.core_queue`: the core undecided
in most traces first) and judges the claim it names with the claim's label, until no claim is undecided.
``manual_judgments_no_reuse``: with reuse off every judgment decides exactly its own claim, so it equals the
number of claims (not re-run). ``wrong_reuse``: claims decided by reuse whose verdict differs from their label.

**Latency** (``judgment_p95_ms``): ``--p95-traces`` (10,000) traces = drugs x 50 cell lines, 6 claims each,
bulk-inserted with their cores and scope keys already computed (synthetic names, as bench/app_bench.py seeds);
``--curators`` (8) processes judge at once (they start together once all have started) the binding and
target-activity claims, each judgment deciding the same core in the other ~49 traces of its drug in its own
transaction under the writers' lock. Before the start each curator makes two judgments on a drug of its own
(``cold_judgment_ms``: min, median, max; not in the p95): a fresh process's first judgments compile SQLAlchemy's statements
and fill SQLite's page cache under the lock (~15-20 ms), which the app's long-running server process does
once, not once per curator.

    python bench/curation_effort.py [--drugs 40] [--cells 10] [--p95-traces 10000] [--curators 8]

Last output line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# drug, target as model A writes it, as model B writes it (synonym or family alias)
DRUGS = [("imatinib", "ABL1", "c-ABL"), ("dasatinib", "SRC", "c-Src"), ("nilotinib", "ABL1", "c-ABL"),
         ("gefitinib", "EGFR", "ErbB1"), ("erlotinib", "EGFR", "HER1"), ("afatinib", "EGFR", "ErbB1"),
         ("vemurafenib", "BRAF", "B-Raf"), ("dabrafenib", "BRAF", "B-Raf"), ("trametinib", "MEK1/2", "MEK"),
         ("selumetinib", "MEK1/2", "MEK"), ("sirolimus", "MTOR", "mTOR"), ("everolimus", "MTOR", "FRAP1"),
         ("olaparib", "PARP1", "PARP"), ("niraparib", "PARP1", "PARP"), ("doxorubicin", "TOP2A", "topoisomerase II alpha"),
         ("etoposide", "TOP2A", "topoisomerase II alpha"), ("bortezomib", "PSMB5", "PSMB5"), ("palbociclib", "CDK4", "CDK4"),
         ("ruxolitinib", "JAK", "JAK"), ("tofacitinib", "JAK", "JAK"), ("crizotinib", "ALK", "ALK"), ("alectinib", "ALK", "ALK"),
         ("sunitinib", "KDR", "VEGFR2"), ("axitinib", "KDR", "VEGFR2"), ("ibrutinib", "BTK", "BTK"),
         ("midostaurin", "FLT3", "FLT3"), ("gilteritinib", "FLT3", "FLT3"), ("alisertib", "AURKA", "Aurora A"),
         ("volasertib", "PLK1", "PLK1"), ("selinexor", "XPO1", "CRM1"), ("methotrexate", "DHFR", "DHFR"),
         ("fluorouracil", "TYMS", "TYMS"), ("tazemetostat", "EZH2", "EZH2"), ("vismodegib", "SMO", "SMO"),
         ("simvastatin", "HMGCR", "HMGCR"), ("celecoxib", "PTGS2", "COX-2"), ("tamoxifen", "ESR1", "ER alpha"),
         ("enzalutamide", "AR", "androgen receptor"), ("alpelisib", "PIK3CA", "p110alpha"), ("decitabine", "DNMT1", "DNMT1"),
         ("cabozantinib", "MET", "c-Met"), ("capivasertib", "AKT", "PKB")]
CELLS = ["A549", "MCF7", "HCT116", "HeLa", "K562", "PC-3", "HepG2", "U2OS", "SK-MEL-28", "Jurkat"]


def sensitive(d: int, c: int) -> bool:
    return (7 * d + 3 * c) % 4 != 0


def explanation(d: int, c: int, model: str) -> tuple[str, dict[str, bool]]:
    """The text form of one model's explanation and each node's label."""
    drug, ta, tb = DRUGS[d]
    a = model == "A"
    name, target = (drug, ta) if a else (drug.capitalize(), tb)
    ok = sensitive(d, c)
    lines = [f'set_context(cell_type="{CELLS[c]}")',
             f'binds_to(id="n1", actor="{name}", target="{target}"' + ("" if a else ', affinity="12", unit="nM", via="ATP site"') + ")",
             f'modulates_molecule_activity(id="n2", target="{target}", direction="down", via="n1")',
             f'modulates_pathway_activity(id="n3", pathway="{"MAPK signaling" if a else "MAPK Signaling"}", direction="down", via="n2")',
             f'regulates_expression(id="n4", regulator="{target}", gene_list=["{"MYC" if a else "c-Myc"}"], direction="down"'
             + ("" if a else ', mechanism="reduced E2F activity"') + ")",
             f'induces_phenotype(id="n5", source="{name}", phenotype="apoptosis", via="n4")']
    labels = {"n1": True, "n2": True, "n3": ok, "n4": ok, "n5": ok}
    edges = ['edge("n1", "n2", relation="causal")', 'edge("n2", "n3", relation="causal")', 'edge("n2", "n4", relation="causal")',
             'edge("n4", "n5", relation="causal")']
    if not a and d % 2 == 0:
        lines.append(f'binds_to(id="n6", actor="{name}", target="HDAC1", via="docking")')
        edges.append('edge("n6", "n5", relation="causal")')
        labels["n6"] = False
    return "<explain>\n" + "\n".join(lines) + "\n</explain>\n<dag>\n" + "\n".join(edges) + "\n</dag>", labels


def build_grid(engine, n_drugs: int, n_cells: int) -> dict[int, bool]:
    """Store the grid's records and traces (grounded at save); claim id -> label."""
    from sqlmodel import select

    from vcr_core.curation.reuse import after_save
    from vcr_core.files.ingest import ingest_file
    from vcr_core.formalism import parse_text
    from vcr_core.store import Claim, Record, Run, session_scope
    from vcr_core.store.traces import save_trace

    recs = [{"index": f"{d}-{c}", "context": {"cell_type": CELLS[c]}, "perturbation": {"name": DRUGS[d][0]}}
            for d in range(n_drugs) for c in range(n_cells)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.json"
        path.write_text(json.dumps(recs))
        batch_id = ingest_file(engine, path, name="tahoe-like grid").batch_id
    labels: dict[int, bool] = {}
    for model in ("A", "B"):
        with session_scope(engine) as s:
            run = Run(name=f"model {model}", batch_id=batch_id, mode="explain-only", status="done", model=f"model-{model}")
            s.add(run)
            s.flush()
            rows = {r.index: r for r in s.exec(select(Record).where(Record.batch_id == batch_id)).all()}
            for d in range(n_drugs):
                for c in range(n_cells):
                    text, lab = explanation(d, c, model)
                    trace = save_trace(s, run_id=run.id, record=rows[f"{d}-{c}"], explanation=parse_text(text).explanation)
                    after_save(s, trace, rule="one")
                    for cl in s.exec(select(Claim).where(Claim.trace_id == trace.id)).all():
                        labels[cl.id] = lab[cl.node_id]
    return labels


def effort(engine, labels: dict[int, bool]) -> dict:
    from sqlalchemy import select

    from vcr_core import curation as cur
    from vcr_core.curation import reuse
    from vcr_core.store import ClaimReuseRow, ClaimStateRow

    manual = 0
    t0 = time.perf_counter()
    while True:
        q = reuse.core_queue(engine, limit=1)
        if not q:
            break
        cid = q[0]["claim_id"]
        verdict = "supported" if labels[cid] else "contradicted"
        cur.judge_claim(engine, cid, "oracle", "override", verdict=verdict, tag="correct" if labels[cid] else "no_relation",
                        rule="one")
        manual += 1
    elapsed = time.perf_counter() - t0
    with engine.connect() as conn:
        own = {r[0]: r[1] for r in conn.execute(select(ClaimStateRow.claim_id, ClaimStateRow.verdict)
                                                 .where(ClaimStateRow.status == "decided"))}
        reused = {r[0]: r[1] for r in conn.execute(select(ClaimReuseRow.claim_id, ClaimReuseRow.verdict)
                                                    .where(ClaimReuseRow.status == "decided"))}
    want = {cid: "supported" if ok else "contradicted" for cid, ok in labels.items()}
    return {"manual_judgments": manual, "undecided_left": sum(1 for c in labels if c not in own and c not in reused),
            "decided_by_reuse": len(reused), "wrong_reuse": sum(1 for c, v in reused.items() if v != want[c]),
            "wrong_own": sum(1 for c, v in own.items() if v != want[c]), "oracle_seconds": round(elapsed, 1)}


# --- latency: 8 curators at once on a large database ---

def seed_big(engine, n_traces: int, n_cells: int = 50) -> list[list[int]]:
    """Bulk-insert ``n_traces`` traces (drugs x ``n_cells``) of 6 claims with cores and scope keys; returns,
    per drug, the claim ids of its binding and target-activity claims in its first trace."""
    import hashlib

    from vcr_core.store.models import Batch, Claim, Record, Run, Trace, utcnow

    now = utcnow()
    n_drugs = max(1, n_traces // n_cells)
    actions = [("binds_to", "any"), ("modulates_molecule_activity", "perturbation"), ("modulates_pathway_activity", "context"),
               ("regulates_expression", "context"), ("induces_phenotype", "context"), ("post_translational_modification", "context")]

    def h(*parts) -> str:
        return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()

    with engine.begin() as c:
        c.execute(Batch.__table__.insert(), [{"name": "big", "content_hash": "big", "kind": "upload", "created_at": now, "n_records": n_traces}])
        c.execute(Run.__table__.insert(), [{"name": "big", "batch_id": 1, "mode": "explain-only", "status": "done", "created_at": now,
                                            "n_total": 0, "n_done": 0, "n_failed": 0, "n_invalid": 0, "prompt_tokens": 0,
                                            "completion_tokens": 0, "cost_usd": 0.0}])
        recs, traces, claims = [], [], []
        for i in range(n_drugs * n_cells):
            d, cell = divmod(i, n_cells)
            recs.append({"batch_id": 1, "index": str(i), "position": i, "label": f"drug{d} in cell{cell}", "perturbation_name": f"drug{d}",
                         "created_at": now, "normalized": {"index": str(i), "shape": "single"}})
            traces.append({"run_id": 1, "record_id": i + 1, "status": "ok", "source": "generated", "n_claims": 6, "prompt_tokens": 0,
                           "completion_tokens": 0, "cost_usd": 0.0, "latency_s": 0.0, "created_at": now})
            for p, (action, scope) in enumerate(actions):
                core = h(action, d) if scope != "context" else h(action, d, cell)
                claims.append({"trace_id": i + 1, "position": p, "node_id": f"n{p + 1}", "action": action, "args": {},
                               "text": f"{action}(drug{d})", "hash": h(action, d, cell, "full"), "core": core,
                               "grounding": {"args": {}, "scope": scope}, "pert_key": f"X:drug{d}", "cell_key": f"EFO:cell{cell}"})
        c.execute(Record.__table__.insert(), recs)
        c.execute(Trace.__table__.insert(), traces)
        for k in range(0, len(claims), 20000):
            c.execute(Claim.__table__.insert(), claims[k:k + 20000])
    # claim ids are 1..; the first trace of drug d is d * n_cells + 1 and its claims start at (that - 1) * 6 + 1
    return [[(d * n_cells) * 6 + 1, (d * n_cells) * 6 + 2] for d in range(n_drugs)]


def curator(url: str, name: str, claim_ids: list[int], out, start=None, warm_ids: tuple[int, ...] = ()) -> None:
    from vcr_core import curation as cur
    from vcr_core.store import get_engine

    engine = get_engine(url)

    def judge(cid: int) -> float:
        t = time.perf_counter()
        cur.judge_claim(engine, cid, name, "override", verdict="supported", tag="correct", rule="one")
        return time.perf_counter() - t

    cold = [judge(cid) for cid in warm_ids]  # this process's first judgments (see the module's docstring)
    if start is not None:
        start.wait()  # all curators judge at once, after every process has started (imports take seconds of CPU)
    out.put(([judge(cid) for cid in claim_ids], cold))


def latency(url: str, engine, n_traces: int, curators: int) -> dict:
    from sqlalchemy import func, select

    from vcr_core.store import ClaimReuseRow

    t0 = time.perf_counter()
    per_drug = seed_big(engine, n_traces)
    seeded_s = time.perf_counter() - t0
    warm, per_drug = per_drug[-curators:], per_drug[:-curators]  # one drug of its own per curator, to warm up
    work = [cid for pair in per_drug for cid in pair]
    ctx = mp.get_context("spawn")
    out, start = ctx.Queue(), ctx.Barrier(curators)
    procs = [ctx.Process(target=curator, args=(url, f"curator{i}", work[i::curators], out, start, tuple(warm[i])))
             for i in range(curators)]
    t1 = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    lat = sorted(x for measured, _cold in results for x in measured)
    cold = sorted(x for _measured, cold in results for x in cold)
    for p in procs:
        p.join()
    wall = time.perf_counter() - t1
    with engine.connect() as conn:
        decided = conn.execute(select(func.count()).select_from(ClaimReuseRow.__table__)).scalar_one()
    p95 = lat[int(0.95 * (len(lat) - 1))] * 1000
    return {"p95_traces": n_traces, "p95_claims": n_traces * 6, "judgments": len(lat), "claims_decided_by_reuse": decided,
            "judgment_p50_ms": round(lat[len(lat) // 2] * 1000, 1), "judgment_p95_ms": round(p95, 1),
            "judgment_max_ms": round(lat[-1] * 1000, 1),
            "cold_judgment_ms": [round(x * 1000, 1) for x in (cold[0], cold[len(cold) // 2], cold[-1])] if cold else None,
            "seed_s": round(seeded_s, 1), "team_wall_s": round(wall, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--drugs", type=int, default=40)
    ap.add_argument("--cells", type=int, default=10)
    ap.add_argument("--p95-traces", type=int, default=10000)
    ap.add_argument("--curators", type=int, default=8)
    args = ap.parse_args()
    if args.drugs > len(DRUGS) or args.cells > len(CELLS):
        ap.error(f"at most {len(DRUGS)} drugs and {len(CELLS)} cell lines")
    result: dict = {"load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("VCR_HOME", str(Path.home() / ".vcr-bench"))  # caches of the vocabularies survive runs
        from vcr_core.store import get_engine

        engine = get_engine(f"sqlite:///{tmp}/effort.db")
        t0 = time.perf_counter()
        labels = build_grid(engine, args.drugs, args.cells)
        result["build_s"] = round(time.perf_counter() - t0, 1)
        from sqlalchemy import func, select

        from vcr_core.store import Trace
        with engine.connect() as conn:
            result["traces"] = conn.execute(select(func.count()).select_from(Trace.__table__)).scalar_one()
        result["claims"] = len(labels)
        result.update(effort(engine, labels))
        result["manual_judgments_no_reuse"] = len(labels)
        result["effort_ratio"] = round(result["manual_judgments"] / len(labels), 3)
        print(f"traces {result['traces']}, claims {result['claims']}: {result['manual_judgments']} manual judgments with reuse, "
              f"{len(labels)} without (ratio {result['effort_ratio']}), wrong_reuse {result['wrong_reuse']}", flush=True)
        if args.p95_traces:
            url = f"sqlite:///{tmp}/big.db"
            result.update(latency(url, get_engine(url), args.p95_traces, args.curators))
            print(f"{args.curators} curators on {args.p95_traces} traces: judgment p50 {result['judgment_p50_ms']} ms, "
                  f"p95 {result['judgment_p95_ms']} ms (each process's first judgments, before: {result['cold_judgment_ms']} ms)", flush=True)
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
