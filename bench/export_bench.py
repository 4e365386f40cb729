"""Hugging Face export benchmark: `vcr export --format hf` of N traces (default 100,000).

Builds an SQLite database quickly with core inserts (as bench/app_bench.py does): N/2 records (one
perturbation in one cell line each; N/40 drugs over 37 cell lines), two traces per record by two models,
each a 5-claim explanation with one machine verdict per claim and a filter-policy verdict (pass or
fail) per trace, and a share of the traces curated (approved or rejected, a few claims overridden by two
curators). Then:

* ``export_s``, ``peak_mb``: `vcr export --format hf -o DIR --status approved` in a process of its own
  (wall time, peak RSS of that process);
* ``load_ok``: 1 when ``datasets.load_dataset`` reads every config (and the default, with no name) and
  every split holds the rows the export says it wrote;
* ``leakage``: perturbations found in more than one split (every config; the rule is 'perturbation');
* ``preference_pairs``: rows of the preferences config;
* ``roundtrip_lost``: traces of the traces config, re-imported with `vcr import-traces DIR` into an empty
  database, whose claims, verdicts, trace verdicts or curations differ from the source database (or
  that are missing).

Last output line: one JSON object.

    .venv/bin/python bench/export_bench.py [--traces 100000] [--curated 0.2] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import child_peak_mb  # noqa: E402 - bench/ is on the path from here

PER_TRACE = 5
N_CELLS = 37


def seed(engine, n_traces: int, curated: float) -> None:
    """Core inserts: batch, two runs (two models), records, traces, claims, verdicts, trace verdicts, curations."""
    from app_bench import chain_explanation

    from vcr_core.formalism import to_text
    from vcr_core.formalism.hashing import claim_hash
    from vcr_core.formalism.parser import node_to_text
    from vcr_core.records.model import Record as RecordModel
    from vcr_core.store.models import Batch, Claim, Curation, Record, Run, Trace, TraceVerdict, Verdict, utcnow
    from vcr_core.verify.policy import current_policy

    now = utcnow()
    expl = chain_explanation(PER_TRACE)
    expl_json, text = expl.model_dump(mode="json"), to_text(expl)
    n_records = n_traces // 2
    n_drugs = max(10, n_traces // 40)
    policy = current_policy()
    rng = random.Random(0)
    with engine.begin() as c:
        c.execute(Batch.__table__.insert(), [{"name": "bench", "content_hash": "bench", "kind": "upload", "created_at": now,
                                              "n_records": n_records}])
        c.execute(Run.__table__.insert(), [{"name": f"model-{m}", "batch_id": 1, "mode": "explain-only", "status": "done",
                                            "created_at": now, "model": f"model-{m}", "n_total": n_records,
                                            "n_done": n_records, "n_failed": 0, "n_invalid": 0, "prompt_tokens": 0,
                                            "completion_tokens": 0, "cost_usd": 0.0} for m in "ab"])
        records, hashes = [], []  # hashes: each record's claim hashes, as save_trace computes them (no grounder)
        for i in range(n_records):
            drug, cell = f"drug{i % n_drugs}", f"cell{(i // n_drugs) % N_CELLS}"
            raw = {"index": i, "perturbation": {"name": drug, "type": "drug"}, "context": {"cell_line": cell}}
            records.append({"batch_id": 1, "index": str(i), "position": i, "label": f"{drug} in {cell}",
                            "perturbation_name": drug, "created_at": now, "raw": raw,
                            "normalized": {"index": str(i), "shape": "single",
                                           "perturbations": [{"name": drug, "type": "drug"}],
                                           "contexts": [{"cell_line": cell}]}})
            context = RecordModel.model_validate(records[-1]["normalized"]).context_key()
            hashes.append([claim_hash(node, context) for node in expl.nodes[:PER_TRACE]])
        c.execute(Record.__table__.insert(), records)
        # trace t (1-based): record (t - 1) // 2 + 1, model a for odd t, b for even t
        c.execute(Trace.__table__.insert(), [{"run_id": 1 + (t % 2 == 0), "record_id": (t - 1) // 2 + 1, "status": "ok",
                                              "source": "generated", "model": f"model-{'ab'[t % 2 == 0]}",
                                              "n_claims": PER_TRACE, "explanation": expl_json, "text_form": text,
                                              "raw_output": text, "prompt_version": "p1-bench", "prompt_tokens": 0,
                                              "completion_tokens": 0, "cost_usd": 0.0, "latency_s": 0.0,
                                              "report": "report", "created_at": now}
                                             for t in range(1, n_records * 2 + 1)])
        claims, verdicts = [], []
        cid = 0
        for t in range(1, n_records * 2 + 1):
            for p in range(PER_TRACE):
                cid += 1
                node = expl.nodes[p]
                h = hashes[(t - 1) // 2][p]
                claims.append({"trace_id": t, "position": p, "node_id": node.id, "action": node.action,
                               "args": dict(node.args), "via": node.via, "text": node_to_text(node), "hash": h})
                verdicts.append({"trace_id": t, "claim_id": cid, "claim_hash": h, "verifier": "kg", "version": "3",
                                 "verdict": rng.choice(["supported", "unverifiable", "contradicted"]), "score": 0.5,
                                 "evidence": [{"kind": "sources_consulted", "sources": ["starter graph"],
                                               "verifier": "kg", "version": "3"}], "created_at": now})
            if len(claims) >= 50_000:
                c.execute(Claim.__table__.insert(), claims)
                c.execute(Verdict.__table__.insert(), verdicts)
                claims, verdicts = [], []
        if claims:
            c.execute(Claim.__table__.insert(), claims)
            c.execute(Verdict.__table__.insert(), verdicts)
        c.execute(TraceVerdict.__table__.insert(), [{"trace_id": t, "verdict": rng.choice(["pass", "fail"]), "policy": policy,
                                                    "created_at": now} for t in range(1, n_records * 2 + 1)])
        cur_rows = []
        for r in range(n_records):
            if rng.random() >= curated:
                continue
            a, b = 2 * r + 1, 2 * r + 2  # curators approve one model's trace and reject the other's
            good, bad = (a, b) if rng.random() < 0.5 else (b, a)
            cur_rows.append({"target": "trace", "trace_id": good, "curator": "ana", "judgment": "approve",
                             "note": "good", "created_at": now})
            cur_rows.append({"target": "trace", "trace_id": bad, "curator": "ana", "judgment": "reject",
                             "note": "thin", "created_at": now})
            if r % 10 == 0:  # two curators judge a claim (agreement in the card)
                first = (good - 1) * PER_TRACE + 1
                for who, verdict in (("ana", "supported"), ("bo", "contradicted" if r % 20 else "supported")):
                    cur_rows.append({"target": "claim", "trace_id": good, "claim_id": first, "claim_hash": hashes[r][0],
                                     "curator": who, "judgment": "override", "verdict": verdict, "created_at": now})
        keys = ("claim_id", "claim_hash", "verdict", "note")  # one shape for every row of an executemany
        cur_rows = [{k: None for k in keys} | r for r in cur_rows]
        for i in range(0, len(cur_rows), 50_000):
            c.execute(Curation.__table__.insert(), cur_rows[i:i + 50_000])


def signatures(engine) -> dict[tuple[str, str], str]:
    """Per trace (record index, run name): its claims, verdicts, trace verdicts and curations as one string."""
    from sqlalchemy import text

    sig: dict[tuple[str, str], list] = {}
    with engine.connect() as c:
        key = {tid: (idx, run) for tid, idx, run in c.execute(text(
            "SELECT trace.id, record.\"index\", run.name FROM trace JOIN record ON record.id = trace.record_id "
            "JOIN run ON run.id = trace.run_id"))}
        node = dict(c.execute(text("SELECT id, node_id FROM claim")).all())
        for k in key.values():
            sig[k] = [[], [], [], []]
        for tid, n, action, args, h in c.execute(text("SELECT trace_id, node_id, action, args, hash FROM claim")):
            sig[key[tid]][0].append((n, action, json.dumps(json.loads(args) if isinstance(args, str) else args, sort_keys=True), h))
        for tid, cl, ver, vv, verdict, score, at in c.execute(text(
                "SELECT trace_id, claim_id, verifier, version, verdict, score, created_at FROM verdict")):
            sig[key[tid]][1].append((node.get(cl), ver, vv, verdict, score, str(at)))
        for tid, verdict, at in c.execute(text("SELECT trace_id, verdict, created_at FROM traceverdict")):
            sig[key[tid]][2].append((verdict, str(at)))
        for tid, target, cl, who, judgment, verdict, tag, note, at in c.execute(text(
                "SELECT trace_id, target, claim_id, curator, judgment, verdict, tag, note, created_at FROM curation")):
            sig[key[tid]][3].append((target, node.get(cl), who, judgment, verdict, tag, note, str(at)))
    return {k: json.dumps([sorted(x, key=repr) for x in v], default=str) for k, v in sig.items()}


def load_check(out: Path, cache: Path, summary: dict) -> tuple[int, int, int]:
    """(load_ok, leakage, preference rows) read back with datasets.load_dataset."""
    from datasets import load_dataset

    ok = 1
    leakage: set[str] = set()
    pairs = 0
    default = load_dataset(str(out), cache_dir=str(cache))
    if {s: default[s].num_rows for s in default} != summary["rows"]["traces"]:
        ok = 0
    for config in ("traces", "sft", "preferences"):
        ds = load_dataset(str(out), config, cache_dir=str(cache))
        if {s: ds[s].num_rows for s in ds} != summary["rows"][config]:
            ok = 0
        where: dict[str, str] = {}
        for split in ds:
            for p in set(ds[split]["perturbation"]):
                if where.setdefault(p, split) != split:
                    leakage.add(p)
        if config == "preferences":
            pairs = sum(ds[s].num_rows for s in ds)
    return ok, len(leakage), pairs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=100_000)
    ap.add_argument("--curated", type=float, default=0.2, help="share of records whose two traces curators ranked")
    ap.add_argument("--roundtrip-split", choices=("all", "train", "validation", "test"), default="all",
                    help="re-import every trace of the traces config (all, default) or only one split's")
    ap.add_argument("--roundtrip-limit", type=int, default=0,
                    help="re-import only the first K rows of the traces config (0: no limit)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (database and dataset)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vcr_export_bench_"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    env = {"VCR_HOME": str(tmp), "DATABASE_URL": url, "APP_WORKER": "false", "OFFLINE": "true",
           "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    os.environ.update(env)
    from vcr_core import curation as cur
    from vcr_core.store import get_engine

    engine = get_engine(url)
    t0 = time.perf_counter()
    seed(engine, args.traces, args.curated)
    cur.rebuild_state(engine)
    print(f"seeded {args.traces} traces / {args.traces * PER_TRACE} claims in {time.perf_counter() - t0:.1f} s")

    out = tmp / "dataset"
    t0 = time.perf_counter()
    report = tmp / "export-peak.txt"  # the child's own peak (bench/peak.py: ru_maxrss would include this process's)
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("peak.py")), str(report), "-m", "vcr_core.cli.main",
                           "export", "--format", "hf", "-o", str(out), "--status", "approved", "--split-by", "perturbation",
                           "--seed", "1"], env={**os.environ, **env}, capture_output=True, text=True)
    export_s = time.perf_counter() - t0
    peak_mb = child_peak_mb(report)
    print(proc.stderr.strip()[-600:])
    if proc.returncode:
        print(f"export failed ({proc.returncode})")
        return 1
    summary = json.loads((out / "vcr_export.json").read_text())
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"export: {export_s:.1f} s, peak RSS {peak_mb:.0f} MB, {size / 1e6:.0f} MB on disk, rows {summary['rows']}")

    t0 = time.perf_counter()
    load_ok, leakage, pairs = load_check(out, tmp / "hf-cache", summary)
    print(f"load_dataset of every config: {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    other = get_engine(f"sqlite:///{tmp / 'reimported.db'}")
    from vcr_core.files.importers import import_traces

    read: set[tuple[str, str]] = set()  # (record index, run name) of every archive re-imported

    def limited(archives):
        import itertools
        for a in itertools.islice(archives, args.roundtrip_limit or None):
            read.add((str(a["record"]["index"]), a["run"]["name"]))
            yield a

    from vcr_core.files.archive import import_archive
    from vcr_core.files.hf import iter_hf_archives

    if args.roundtrip_split == "all" and not args.roundtrip_limit:
        counts = import_traces(other, out)  # the command's own path
    else:  # one split's shards, or the first K rows: the same reader and importer, on fewer rows
        shards = sorted((out / "data" / "traces").glob(f"{'' if args.roundtrip_split == 'all' else args.roundtrip_split}*.parquet"))
        counts = import_archive(other, limited(a for f in shards for a in iter_hf_archives(f)))
    print(f"import-traces of the traces config ({args.roundtrip_split}): {counts['rows']} rows in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    source, back = signatures(engine), signatures(other)
    if read:  # compare the traces re-imported only
        source = {k: v for k, v in source.items() if k in read}
    lost = sum(1 for k in source if back.get(k) != source[k])  # every trace of the source was exported (rule: perturbation)
    print(f"roundtrip comparison: {time.perf_counter() - t0:.1f} s")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"traces": summary["traces"], "export_s": round(export_s, 1), "peak_mb": round(peak_mb),
                      "load_ok": load_ok, "leakage": leakage, "preference_pairs": pairs, "roundtrip_lost": lost,
                      "sft_rows": sum(summary["rows"]["sft"].values()), "dataset_mb": round(size / 1e6, 1),
                      "roundtrip_checked": len(source)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
