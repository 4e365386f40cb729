"""The verifiers on the original pipeline's published outputs (issue 20), offline on the embedded defaults.

Input: the two published v3 files of the VCR-Agent repository (github.com/valence-labs/VCR-Agent,
``data/curation_v1/results/structure-explain-results-v3-claude4.csv`` and ``...-v3-gemini2-5.csv``; 352 traces).
They are NOT part of this project and must never be committed: download them yourself, e.g.

    git clone --depth 1 https://github.com/valence-labs/VCR-Agent /tmp/VCR-Agent
    .venv/bin/python bench/real_outputs.py /tmp/VCR-Agent/data/curation_v1/results/structure-explain-results-v3-claude4.csv:21 \\
        /tmp/VCR-Agent/data/curation_v1/results/structure-explain-results-v3-gemini2-5.csv:16

Each argument is a file the project's importer reads (CSV, JSON, JSONL of the same columns; ``index``,
``input_perturbation``, ``explain``, ``dag`` are what is used) with an optional ``:N`` (its first N rows; the
issue's measure uses 21 + 16 = 37 traces). Without arguments the files are looked up under ``--mirror`` (a
fetched snapshot's git directory, read with ``git show HEAD:<path>``) or ``$VCR_AGENT_DIR``.

The rows are imported with ``vcr_core.files.importers.import_traces`` into a fresh SQLite file under
``bench/_work/real_outputs/`` (its own VCR_HOME, ``OFFLINE=true``), verified with the default verifiers
(the falsification agent aside: it calls a model) exactly as ``bench/verify_eval.py`` does, and the filter
policy is applied. Printed (one JSON line, the last line of stdout):

* ``traces``, ``claims``, ``coverage`` (share of claims supported or contradicted), ``supported_share``,
  ``contradicted_share``, ``per_primitive`` (claims and coverage per primitive), ``filter`` (outcomes of the
  filter policy over the traces), ``by_verifier`` (decided claims per verifier);
* ``contradicted_true_share``: of the contradicted claims, the share the hand-labelled audit
  (``bench/real_outputs_audit.json``: claim text, label true/false/doubtful, a biologist's reason) finds
  **true**; ``audit_coverage`` says how many contradicted claims the audit covers (a claim not in the audit
  is listed on stderr, to be labelled). Claims are keyed by trace index ("claude-3", "gemini-0": model file
  and row) and claim text. The audit may label supported claims too: ``supported_true_share``.

Targets (issue 20): coverage >= 0.40, contradicted_true_share <= 0.05, filter outcomes not all "fail".
``--list-contradicted`` prints every contradicted claim with its verdict message (to write the audit).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
WORK = ROOT / "bench" / "_work" / "real_outputs"
AUDIT = ROOT / "bench" / "real_outputs_audit.json"
FILES = ("data/curation_v1/results/structure-explain-results-v3-claude4.csv",
         "data/curation_v1/results/structure-explain-results-v3-gemini2-5.csv")
TARGETS = {"coverage": (">=", 0.40), "contradicted_true_share": ("<=", 0.05)}


def _source_files(args: argparse.Namespace) -> list[tuple[Path, int | None]]:
    out: list[tuple[Path, int | None]] = []
    for spec in args.files:
        path, _, n = spec.rpartition(":") if spec.rpartition(":")[2].isdigit() else (spec, "", "")
        out.append((Path(path), int(n) if n else None))
    if out:
        return out
    WORK.mkdir(parents=True, exist_ok=True)
    limits = (args.first_claude, args.first_gemini)
    if args.mirror:
        for rel, n in zip(FILES, limits):
            dest = WORK / Path(rel).name
            data = subprocess.run(["git", "--git-dir", args.mirror, "show", f"HEAD:{rel}"], capture_output=True, check=True).stdout
            dest.write_bytes(data)
            out.append((dest, n))
        return out
    base = os.environ.get("VCR_AGENT_DIR")
    if base:
        return [(Path(base) / rel, n) for rel, n in zip(FILES, limits)]
    raise SystemExit("give the two published files as arguments (see the docstring), or --mirror GIT_DIR, or set VCR_AGENT_DIR")


def _subset(path: Path, n: int | None, model: str) -> tuple[Path, list[str]]:
    """The first ``n`` rows of a file as a JSON list the importer reads; returns (path, their indexes)."""
    from vcr_core.files.importers import read_rows
    rows = read_rows(path.read_bytes(), path.name)[: n or None]
    objs = []
    for r in rows:
        obj = {"index": f"{model}-{r.index}", "input_perturbation": r.record_obj}
        if r.text is not None:
            obj["raw_response"] = r.text  # the composed explanation text (answer, explain, dag)
        objs.append(obj)
    dest = WORK / f"import-{model}.json"
    dest.write_text(json.dumps(objs, ensure_ascii=False), encoding="utf-8")
    return dest, [o["index"] for o in objs]


def _model(path: Path) -> str:
    name = path.name.lower()
    return "claude" if "claude" in name else "gemini" if "gemini" in name else path.stem


def audit_key(index: str, text: str) -> str:
    return f"{index}|{' '.join(text.split())}"


def load_audit(path: Path = AUDIT) -> dict[str, dict[str, Any]]:
    """{trace|claim text: entry} of the hand audit (its "contradicted" and "claims" lists)."""
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {audit_key(a["trace"], a["claim"]): a for a in [*doc.get("contradicted", []), *doc.get("claims", [])]}


def measure(files: list[tuple[Path, int | None]], list_contradicted: bool = False) -> dict[str, Any]:
    from verify_eval import build_instances, machine_verdict, prepare_environment, verdict_rows, verifier_names

    url = prepare_environment(WORK, None)
    from sqlmodel import Session, select

    from vcr_core.files.importers import import_traces
    from vcr_core.store import Claim, Record, Trace, get_engine
    from vcr_core.verify import verify_traces
    from vcr_core.verify.policy import latest_trace_verdicts

    engine = get_engine(url)
    run_ids = []
    for path, n in files:
        sub, _ = _subset(path, n, _model(path))
        run_ids.append(import_traces(engine, sub, created_by="real_outputs", name=sub.stem)["run_id"])
    with Session(engine) as s:
        traces = s.exec(select(Trace).where(Trace.run_id.in_(run_ids))).all()
        trace_ids = [t.id for t in traces]
        claims = s.exec(select(Claim, Record).where(Claim.trace_id == Trace.id, Trace.record_id == Record.id,
                                                    Trace.id.in_(trace_ids))).all()
        claim_info = {c.id: {"trace": r.index, "action": c.action, "text": c.text, "trace_id": c.trace_id} for c, r in claims}
    names = verifier_names(None)
    verify_traces(engine, trace_ids, names, instances=build_instances(engine, names))
    rows = verdict_rows(engine, trace_ids)
    with Session(engine) as s:
        outcomes = Counter(tv.verdict for tv in latest_trace_verdicts(s, trace_ids).values())
    audit = load_audit()
    per = defaultdict(Counter)
    by_verifier: Counter = Counter()
    counts: Counter = Counter()
    contradicted, supported = [], []
    for cid, info in claim_info.items():
        verdict, score = machine_verdict(rows.get(cid, []))
        counts[verdict] += 1
        per[info["action"]]["claims"] += 1
        per[info["action"]][verdict] += 1
        for r in rows.get(cid, []):
            if r["verdict"] in ("supported", "contradicted") and (r["verdict"] == "supported" or (r["score"] or 0) >= 0.5):
                by_verifier[f"{r['verifier']}:{r['verdict']}"] += 1
        if verdict == "contradicted":
            why = [f"{r['verifier']} {r['score']:.2f}: {r['message']}" for r in rows[cid] if r["verdict"] == "contradicted"]
            contradicted.append({**info, "why": why, "audit": audit.get(audit_key(info["trace"], info["text"]))})
        elif verdict == "supported":
            supported.append({**info, "audit": audit.get(audit_key(info["trace"], info["text"]))})
    n = len(claim_info)
    labelled = [c for c in contradicted if c["audit"]]
    true_n = sum(1 for c in labelled if c["audit"]["label"] == "true")
    unlabelled = [c for c in contradicted if not c["audit"]]
    for c in unlabelled:
        print(f"NOT IN AUDIT: {c['trace']} | {c['text']} | {' / '.join(c['why'])}", file=sys.stderr)
    if list_contradicted:
        for c in contradicted:
            print(json.dumps({"trace": c["trace"], "claim": c["text"], "why": c["why"],
                              "label": (c["audit"] or {}).get("label")}, ensure_ascii=False), file=sys.stderr)
    decided = counts["supported"] + counts["contradicted"]
    out = {
        "traces": len(trace_ids), "claims": n,
        "coverage": round(decided / n, 4) if n else None,
        "supported_share": round(counts["supported"] / n, 4) if n else None,
        "contradicted_share": round(counts["contradicted"] / n, 4) if n else None,
        "supported": counts["supported"], "contradicted": counts["contradicted"], "unverifiable": counts["unverifiable"],
        "contradicted_true_share": round(true_n / len(labelled), 4) if labelled else (0.0 if not contradicted else None),
        "audit_coverage": f"{len(labelled)}/{len(contradicted)}",
        "audit_labels": dict(Counter(c["audit"]["label"] for c in labelled)),
        # the same audit file may label supported claims too: the share of them a biologist finds true
        "supported_true_share": (round(sum(1 for c in supported if c["audit"] and c["audit"]["label"] == "true")
                                       / max(1, sum(1 for c in supported if c["audit"])), 4)
                                 if any(c["audit"] for c in supported) else None),
        "supported_audit": dict(Counter((c["audit"] or {}).get("label", "not audited") for c in supported)),
        "filter": dict(outcomes),
        "per_primitive": {a: {"claims": c["claims"], "coverage": round((c["supported"] + c["contradicted"]) / c["claims"], 3),
                              "supported": c["supported"], "contradicted": c["contradicted"]}
                          for a, c in sorted(per.items(), key=lambda kv: -kv[1]["claims"])},
        "by_verifier": dict(sorted(by_verifier.items())),
        "verifiers": names,
    }
    checks = {}
    for k, (op, v) in TARGETS.items():
        got = out.get(k)
        checks[k] = got is not None and (got >= v if op == ">=" else got <= v)
    checks["filter_not_all_fail"] = bool(outcomes) and set(outcomes) != {"fail"}
    out["targets_met"] = checks
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="FILE[:N] (the published CSV files, first N rows)")
    ap.add_argument("--mirror", help="git directory of a fetched VCR-Agent snapshot")
    ap.add_argument("--first-claude", type=int, default=21)
    ap.add_argument("--first-gemini", type=int, default=16)
    ap.add_argument("--list-contradicted", action="store_true")
    args = ap.parse_args(argv)
    out = measure(_source_files(args), args.list_contradicted)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
