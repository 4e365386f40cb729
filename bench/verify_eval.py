"""Verdict quality of the verifiers on a labelled claim set (issue 11).

From an empty database (its own VCR_HOME and SQLite file under ``bench/_work/verify_eval/``) the
claim set's explanations are imported exactly as ``vcr import-traces`` imports a file (records plus
traces, through ``vcr_core.files.importers.import_traces`` and ``save_trace``), verified offline
(``OFFLINE=true``) with the default verifiers on the embedded defaults, and each labelled claim's
machine verdict (``aggregate_claim_verdict``, the filter policy's rule) is compared with its label.

Speed: the first pass builds the verifiers (loading their resources) and verifies every trace
(``cold_s``); then every verdict row is deleted and all traces are verified again in the same
process with the same verifier objects (warm caches): ``traces_per_s`` is that second pass.

Metrics (``None`` when the denominator is 0):

* ``coverage``: share of claims whose machine verdict is supported or contradicted;
* ``precision_supported``: share of supported claims that are true;
* ``precision_contradicted``: share of contradicted claims that are false;
* ``falsehood_recall``: share of false claims that are contradicted;
* ``absence_contradictions``: contradicted claims whose contradiction does not rest on positive
  evidence. Operationally a contradiction counts when (a) the claim is labelled TRUE (a true claim
  cannot have real counter-evidence), or (b) no contradicting row (score >= 0.5) carries positive
  evidence: its evidence list is empty, or every item is an *absence marker*, an item whose text
  says nothing was found ("not found", "no match", "not in", "absent", "missing", "unknown", "no
  annotation", "no evidence", "not listed", ...) and that names no identifier (no CURIE such as
  HGNC:1097, GO:0006915, CHEBI:45783, MONDO:..., and no PMID). A closed-world check (a record's
  complete target list, a made-up gene symbol in none of the gene vocabularies) passes (b) when its
  evidence names what it consulted with identifiers (e.g. the nearest real symbols).

``closed_world_contradictions`` (with their precision) counts, for information, contradictions that
rest only on a closed-world reading of a list (evidence ``closed_world: true``): allowed by issue 11
where the list is meant to be complete, but a true target missing from a record's list shows up here.

Per verifier the same figures use only that verifier's own rows (its raw verdict per claim; a
contradiction needs score >= 0.5 as in the policy); verifier names are read from the verdict rows,
so new verifiers are measured without changing this script. Per kind of falsehood (and for the
true claims, and per primitive) the figures are restricted to those claims.

Claim-set format (``--claims``; see ``bench/verify_claims.json``)::

    {"explanations": [{"id": "imatinib_K562",
                       "record": {...one perturbation record, Tahoe or single shape, with a unique "index"...},
                       "answer": "...", "explain": ["set_context(...)", "binds_to(id=\"n1\", ...)", ...],
                       "dag": ["edge(\"n1\", \"n2\", relation=\"causal\")", ...],
                       "labels": {"n1": {"truth": true, "kind": null, "why": "one-line justification"},
                                  "n4": {"truth": false, "kind": "swapped_target", "why": "..."}}}]}

``explain``/``dag`` may also be single strings. Every claim node needs a label and every label a node;
a false claim's ``kind`` is one of swapped_target, flipped_direction, made_up_symbol, wrong_type,
wrong_phenotype. A set with structural errors is refused (exit code 2) with the problems listed.

Output: a per-claim table of mistakes on stderr (WRONG = true claim contradicted or false claim
supported; MISS = claim left unverifiable), then one JSON line on stdout (the last line).

    .venv/bin/python bench/verify_eval.py [--claims bench/verify_claims.json] [--verifiers entity,kg,...]
                                          [--json-only] [--table mistakes|wrong|all|none] [--home DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLAIMS = ROOT / "bench" / "verify_claims.json"
# Claim sets added by later issues, read with the default set unless --claims says otherwise: issue 20's
# wrong targets, directions against the MoA and moves between compartments (TARGET_CLAIMS), and its
# pathway, process-direction and phenotype-in-context claims (PROCESS_CLAIMS).
TARGET_CLAIMS = ROOT / "bench" / "verify_claims_targets.json"
PROCESS_CLAIMS = ROOT / "bench" / "verify_claims_20p.json"
EXTRA_CLAIMS = (TARGET_CLAIMS, PROCESS_CLAIMS)
WORK = ROOT / "bench" / "_work" / "verify_eval"
KINDS = ("swapped_target", "flipped_direction", "made_up_symbol", "wrong_type", "wrong_phenotype",
         "flipped_process", "context_phenotype")  # 20p: a pathway/process going the wrong way; a phenotype against the drug's role
TARGETS = {"precision_supported": (">=", 0.90), "precision_contradicted": (">=", 0.90), "coverage": (">=", 0.40),
           "falsehood_recall": (">=", 0.40), "absence_contradictions": ("==", 0), "traces_per_s": (">=", 10.0)}
CONTRA_MIN = 0.5  # the policy's contradiction threshold (policy.current_policy()['contradiction_min_score'])

_ABSENCE = re.compile(r"not found|no match|not in\b|absent|missing|unknown|no annotation|no evidence|not listed|"
                      r"none found|nothing found|no (?:edge|hit|result|record|entry|entries|grounding)|unavailable|"
                      r"could not|cannot be found|no such", re.I)
_IDENTIFIER = re.compile(r"\b[A-Za-z][A-Za-z0-9_.]*:[A-Za-z0-9_.-]*\d|\bPMID\W*\d+|\bpmid\b", re.I)


# ---------------------------------------------------------------------------------------------
# The claim set
# ---------------------------------------------------------------------------------------------

def load_claims(path: str | Path | list) -> dict[str, Any]:
    """Read a claim set (JSON: {"explanations": [{id, record, answer, explain, dag, labels}]}); several files
    (a list, or names joined by commas) are read as one set, their explanations in order."""
    items = path if isinstance(path, (list, tuple)) else [path]
    paths = [part.strip() for p in items for part in str(p).split(",") if part.strip()]
    docs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    return docs[0] if len(docs) == 1 else {"explanations": [e for d in docs for e in d.get("explanations", [])]}


def explanation_text(ex: dict[str, Any]) -> str:
    """The text form of one explanation of the claim set (explain/dag may be lists of lines)."""
    def block(v: Any) -> str:
        return "\n".join(v) if isinstance(v, list) else str(v)
    parts = [f"<answer>{ex['answer']}</answer>"] if ex.get("answer") else []
    parts += [f"<explain>\n{block(ex['explain'])}\n</explain>", f"<dag>\n{block(ex['dag'])}\n</dag>"]
    return "\n".join(parts)


def check_claim_set(doc: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Problems with a claim set (labels without a node, nodes without a label, structural errors,
    bad kinds, repeated record indexes) and a summary of what it holds."""
    from vcr_core.formalism import parse_text, validate_parsed

    problems: list[str] = []
    primitives: Counter = Counter()
    kinds: Counter = Counter()
    truth: Counter = Counter()
    seen_index: set[str] = set()
    warnings = 0
    for ex in doc.get("explanations", []):
        eid = ex.get("id", "?")
        idx = str(ex.get("record", {}).get("index"))
        if idx in seen_index:
            problems.append(f"{eid}: record index {idx} is used by another explanation")
        seen_index.add(idx)
        result = parse_text(explanation_text(ex))
        findings = validate_parsed(result)
        for f in findings:
            if f.severity == "error":
                problems.append(f"{eid}: line {f.line}: {f.code}: {f.message}")
            else:
                warnings += 1
        nodes = {n.id: n for n in (result.explanation.claims if result.explanation else [])}
        labels = ex.get("labels", {})
        for nid in nodes:
            if nid not in labels:
                problems.append(f"{eid}: node {nid} has no label")
        for nid, lab in labels.items():
            if nid not in nodes:
                problems.append(f"{eid}: label {nid} names no node of the explanation")
                continue
            if not isinstance(lab.get("truth"), bool):
                problems.append(f"{eid}/{nid}: truth must be true or false")
            if lab.get("truth") is False and lab.get("kind") not in KINDS:
                problems.append(f"{eid}/{nid}: a false claim needs a kind out of {', '.join(KINDS)}")
            if not (lab.get("why") or "").strip():
                problems.append(f"{eid}/{nid}: no justification")
            primitives[nodes[nid].action] += 1
            truth["true" if lab.get("truth") else "false"] += 1
            if lab.get("truth") is False:
                kinds[lab.get("kind")] += 1
    summary = {"explanations": len(doc.get("explanations", [])), "claims": sum(truth.values()),
               "true": truth["true"], "false": truth["false"], "primitives": dict(primitives),
               "kinds": dict(kinds), "structural_warnings": warnings}
    return problems, summary


# ---------------------------------------------------------------------------------------------
# Database, import and verification
# ---------------------------------------------------------------------------------------------

def prepare_environment(work: Path = WORK, home: Path | None = None) -> str:
    """Offline settings with their own VCR_HOME and a fresh SQLite file; returns the database URL.

    Must run before anything reads the settings. Caches under the home survive between runs (a
    user who already ran the set-up command); the database never does."""
    work.mkdir(parents=True, exist_ok=True)
    home = home or (work / "home")
    home.mkdir(parents=True, exist_ok=True)
    db = work / "verify_eval.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    os.environ["VCR_HOME"] = str(home)
    os.environ["DATABASE_URL"] = url
    os.environ["OFFLINE"] = "true"
    from vcr_core.kernel.settings import get_settings
    get_settings.cache_clear()
    return url


def import_claim_set(engine, doc: dict[str, Any], work: Path) -> dict[int, dict[str, Any]]:
    """Store the explanations as ``vcr import-traces`` would; returns {claim_id: label info}."""
    from sqlmodel import Session, select

    from vcr_core.files.importers import import_traces
    from vcr_core.store import Claim, Record, Trace

    rows = [{"index": ex["record"]["index"], "input_perturbation": ex["record"], "answer": ex.get("answer"),
             "explain": "\n".join(ex["explain"]) if isinstance(ex["explain"], list) else ex["explain"],
             "dag": "\n".join(ex["dag"]) if isinstance(ex["dag"], list) else ex["dag"]}
            for ex in doc["explanations"]]
    work.mkdir(parents=True, exist_ok=True)
    path = work / "claim_set_import.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    res = import_traces(engine, path, created_by="verify_eval", name="verify_eval")
    by_index = {str(ex["record"]["index"]): ex for ex in doc["explanations"]}
    out: dict[int, dict[str, Any]] = {}
    with Session(engine) as s:
        q = select(Claim, Trace, Record).where(Claim.trace_id == Trace.id, Trace.record_id == Record.id,
                                               Trace.run_id == res["run_id"])
        for claim, trace, rec in s.exec(q).all():
            ex = by_index.get(rec.index)
            lab = (ex or {}).get("labels", {}).get(claim.node_id)
            if lab is None:
                continue
            out[claim.id] = {"explanation": ex["id"], "node": claim.node_id, "trace_id": trace.id,
                             "action": claim.action, "text": claim.text, "truth": bool(lab["truth"]),
                             "kind": None if lab["truth"] else lab.get("kind"), "why": lab.get("why", "")}
    return out


TRACE_LEVEL = ("structural", "falsification")  # run by verify_traces itself, not built as claim verifiers


def verifier_names(requested: list[str] | None) -> list[str]:
    """The verifiers to run: those asked for, else the project's defaults without the falsification
    agent (it calls a model; this measure is offline). Ask for it with ``--verifiers`` to include it."""
    from vcr_core.verify import runner
    if requested:
        return list(requested)
    return [n for n in runner.default_verifier_names() if n != "falsification"]


def build_instances(engine, names: list[str]) -> dict[str, Any]:
    """The claim verifier objects for ``names`` (kept for the warm pass)."""
    from vcr_core.verify import runner
    claim_level = runner.claim_verifier_names()
    wanted = [n for n in names if n in claim_level] if claim_level else [n for n in names if n not in TRACE_LEVEL]
    return runner.build_verifiers(engine, wanted)


def contradiction_min_score() -> float:
    """The policy's contradiction threshold (0.5 unless the policy in force says otherwise)."""
    try:
        from vcr_core.verify.policy import current_policy
        return float(current_policy().get("contradiction_min_score", CONTRA_MIN))
    except Exception:  # noqa: BLE001 - an older or newer policy module without this setting
        return CONTRA_MIN


def machine_verdict(rows: list[dict[str, Any]]) -> tuple[str, float]:
    """The claim's machine verdict by the project's own rule (``aggregate_claim_verdict``); no rows
    or no verdict count as unverifiable."""
    from vcr_core.verify import aggregate_claim_verdict
    out = aggregate_claim_verdict(rows)
    if isinstance(out, tuple):
        verdict, score = out[0], (out[1] if len(out) > 1 else 0.0)
    else:  # a richer result object
        verdict, score = getattr(out, "verdict", None), getattr(out, "score", 0.0)
    return (verdict or "unverifiable"), float(score or 0.0)


def trace_ids_of(engine, claims: dict[int, dict[str, Any]]) -> list[int]:
    return sorted({c["trace_id"] for c in claims.values()})


def clear_verdicts(engine, trace_ids: list[int]) -> None:
    """Delete every verdict row (and trace verdict) of these traces, so the next pass recomputes."""
    from sqlmodel import delete

    from vcr_core.store import TraceVerdict, Verdict, session_scope
    with session_scope(engine) as s:
        s.exec(delete(Verdict).where(Verdict.trace_id.in_(trace_ids)))
        s.exec(delete(TraceVerdict).where(TraceVerdict.trace_id.in_(trace_ids)))


class Timed:
    """A verifier object that adds up the time its ``verify`` calls take (everything else is delegated)."""

    def __init__(self, inner: Any, clock=time.perf_counter) -> None:
        self.inner, self.clock, self.seconds, self.calls = inner, clock, 0.0, 0
        self.name, self.version = inner.name, inner.version

    def applies(self, node) -> bool:
        return self.inner.applies(node)

    def verify(self, ctx):
        t = self.clock()
        try:
            return self.inner.verify(ctx)
        finally:
            self.seconds += self.clock() - t
            self.calls += 1

    def __getattr__(self, key: str) -> Any:  # other attributes a runner may read (problem, ...)
        return getattr(self.inner, key)


def run_passes(engine, trace_ids: list[int], names: list[str], instances: dict[str, Any] | None = None,
               clock=time.perf_counter) -> dict[str, Any]:
    """Cold pass (build verifiers + verify), then warm pass (delete verdicts, verify again with the
    same verifier objects). ``verifier_s`` is the warm time spent in each claim verifier's ``verify``."""
    from vcr_core.verify import verify_traces

    t0 = clock()
    inst = instances if instances is not None else build_instances(engine, names)
    cold = verify_traces(engine, trace_ids, names, instances=inst)
    t1 = clock()
    cold_rows = verdict_rows(engine, trace_ids)
    clear_verdicts(engine, trace_ids)
    timed = {k: Timed(v) for k, v in inst.items()}
    t2 = clock()
    warm = verify_traces(engine, trace_ids, names, instances=timed)
    t3 = clock()
    warm_rows = verdict_rows(engine, trace_ids)
    same = _row_key(cold_rows) == _row_key(warm_rows)
    warm_s = t3 - t2
    return {"cold_s": round(t1 - t0, 3), "warm_s": round(warm_s, 3),
            "traces_per_s": round(len(trace_ids) / warm_s, 2) if warm_s > 0 else None,
            "warm_matches_cold": same, "summary": warm,
            "verifier_s": {k: round(t.seconds, 3) for k, t in timed.items()}}


def _row_key(rows: dict[int, list[dict[str, Any]]]) -> list[tuple]:
    return sorted((cid, r["verifier"], r["verdict"], round(float(r["score"] or 0), 4))
                  for cid, rs in rows.items() for r in rs)


def verdict_rows(engine, trace_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """{claim_id: [verdict row as dict]} for the claim-level rows of these traces."""
    from sqlmodel import Session, select

    from vcr_core.store import Verdict
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with Session(engine) as s:
        for v in s.exec(select(Verdict).where(Verdict.trace_id.in_(trace_ids), Verdict.claim_id.is_not(None))).all():
            out[v.claim_id].append({"verifier": v.verifier, "version": v.version, "verdict": v.verdict,
                                    "score": v.score, "evidence": v.evidence or [], "message": v.message or ""})
    return out


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def is_absence_item(item: Any) -> bool:
    """An evidence item that only says something was not found (and names no identifier)."""
    text = json.dumps(item, ensure_ascii=False) if not isinstance(item, str) else item
    if not text.strip() or text.strip() in ("{}", "[]", "null", '""'):
        return True
    return bool(_ABSENCE.search(text)) and not _IDENTIFIER.search(text)


def absence_only(rows: list[dict[str, Any]], threshold: float = CONTRA_MIN) -> bool:
    """True when no contradicting row (score >= threshold) carries positive evidence."""
    contra = [r for r in rows if r["verdict"] == "contradicted" and float(r["score"] or 0) >= threshold]
    return bool(contra) and all(not r["evidence"] or all(is_absence_item(e) for e in r["evidence"]) for r in contra)


def closed_world_only(rows: list[dict[str, Any]], threshold: float = CONTRA_MIN) -> bool:
    """True when every contradicting row rests on a closed-world reading of a list (an evidence item
    with ``closed_world: true`` or saying "closed world"): counted apart, since such a list can be
    incomplete (a true target missing from a record's list is then contradicted)."""
    contra = [r for r in rows if r["verdict"] == "contradicted" and float(r["score"] or 0) >= threshold]

    def closed(r: dict[str, Any]) -> bool:
        text = (r.get("message") or "") + json.dumps(r["evidence"], ensure_ascii=False)
        return any(isinstance(e, dict) and e.get("closed_world") is True for e in r["evidence"]) or "closed world" in text.lower()
    return bool(contra) and all(closed(r) for r in contra)


def judge(claims: dict[int, dict[str, Any]], rows: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One item per labelled claim: its label, the machine verdict and the rows behind it."""
    threshold = contradiction_min_score()
    items = []
    for cid, c in sorted(claims.items(), key=lambda kv: (kv[1]["explanation"], kv[1]["node"])):
        rs = rows.get(cid, [])
        verdict, score = machine_verdict(rs)
        absence = None
        if verdict == "contradicted":
            if c["truth"]:
                absence = "true_claim"
            elif absence_only(rs, threshold):
                absence = "no_positive_evidence"
        per_verifier = {}
        for r in rs:
            v = r["verdict"]
            if v not in ("supported", "contradicted"):
                v = "unverifiable"
            if v == "contradicted" and float(r["score"] or 0) < threshold:
                v = "unverifiable"
            # Several rows of one verifier (should not happen): a contradiction wins, then support.
            prev = per_verifier.get(r["verifier"])
            rank = {"contradicted": 2, "supported": 1, "unverifiable": 0}
            if prev is None or rank[v] > rank[prev]:
                per_verifier[r["verifier"]] = v
        closed_world = verdict == "contradicted" and closed_world_only(rs, threshold)
        items.append({**c, "claim_id": cid, "verdict": verdict, "score": score, "absence": absence,
                      "closed_world": closed_world,
                      "per_verifier": per_verifier, "rows": rs})
    return items


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def figures(pairs: list[tuple[bool, str]]) -> dict[str, Any]:
    """The four figures (and counts) for (truth, verdict) pairs."""
    n = len(pairs)
    sup = [t for t, v in pairs if v == "supported"]
    con = [t for t, v in pairs if v == "contradicted"]
    false_n = sum(1 for t, _ in pairs if not t)
    return {"claims": n, "supported": len(sup), "contradicted": len(con),
            "coverage": _ratio(len(sup) + len(con), n),
            "precision_supported": _ratio(sum(sup), len(sup)),
            "precision_contradicted": _ratio(sum(1 for t in con if not t), len(con)),
            "falsehood_recall": _ratio(sum(1 for t in con if not t), false_n)}


def compute_metrics(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall, per-verifier, per-kind and per-primitive figures for judged items."""
    overall = figures([(i["truth"], i["verdict"]) for i in items])
    absence = Counter(i["absence"] for i in items if i["absence"])
    verifiers = sorted({v for i in items for v in i["per_verifier"]})
    per_verifier = {}
    for v in verifiers:
        pairs = [(i["truth"], i["per_verifier"].get(v, "unverifiable")) for i in items]
        f = figures(pairs)
        f["applied"] = sum(1 for i in items if v in i["per_verifier"])
        f["absence_contradictions"] = sum(
            1 for i in items if i["per_verifier"].get(v) == "contradicted"
            and (i["truth"] or absence_only([r for r in i["rows"] if r["verifier"] == v], contradiction_min_score())))
        per_verifier[v] = f
    per_kind = {}
    for k in KINDS + ("true",):
        sel = [i for i in items if (i["truth"] if k == "true" else i["kind"] == k)]
        f = figures([(i["truth"], i["verdict"]) for i in sel])
        if k == "true":
            f["supported_recall"] = _ratio(f["supported"], f["claims"])
        per_kind[k] = f
    per_primitive = {}
    for p in sorted({i["action"] for i in items}):
        sel = [i for i in items if i["action"] == p]
        per_primitive[p] = figures([(i["truth"], i["verdict"]) for i in sel])
    closed = [i for i in items if i.get("closed_world")]
    return {**{k: overall[k] for k in ("coverage", "precision_supported", "precision_contradicted", "falsehood_recall")},
            "absence_contradictions": sum(absence.values()), "absence_detail": dict(absence),
            "closed_world_contradictions": len(closed),
            "closed_world_precision": _ratio(sum(1 for i in closed if not i["truth"]), len(closed)),
            "claims": len(items), "true": sum(1 for i in items if i["truth"]),
            "false": sum(1 for i in items if not i["truth"]),
            "supported": overall["supported"], "contradicted": overall["contradicted"],
            "primitives": len(per_primitive),
            "per_verifier": per_verifier, "per_kind": per_kind, "per_primitive": per_primitive}


def check_targets(metrics: dict[str, Any]) -> dict[str, Any]:
    """Each target with its value and pass/fail (a missing value fails)."""
    out = {}
    for key, (op, goal) in TARGETS.items():
        val = metrics.get(key)
        ok = val is not None and (val >= goal if op == ">=" else val == goal)
        out[key] = {"target": f"{op} {goal}", "value": val, "pass": ok}
    return out


# ---------------------------------------------------------------------------------------------
# The table of mistakes
# ---------------------------------------------------------------------------------------------

def _short(text: str, n: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def mistakes_table(items: list[dict[str, Any]], which: str = "mistakes") -> str:
    """A readable table: one block per claim that is WRONG (true contradicted, false supported) or,
    with which='mistakes' or 'all', MISSed (left unverifiable); 'all' also lists the correct ones."""
    lines = []
    for i in items:
        wrong = (i["truth"] and i["verdict"] == "contradicted") or (not i["truth"] and i["verdict"] == "supported")
        miss = i["verdict"] == "unverifiable"
        status = "WRONG" if wrong else "MISS" if miss else "ok"
        if which == "none" or (which == "wrong" and status != "WRONG") or (which == "mistakes" and status == "ok"):
            continue
        label = "TRUE" if i["truth"] else f"FALSE/{i['kind']}"
        absence = f" [absence: {i['absence']}]" if i["absence"] else ""
        absence += " [closed world]" if i.get("closed_world") else ""
        lines.append(f"{status:5} {i['explanation']}/{i['node']}  {label} -> {i['verdict']}{absence}  {_short(i['text'], 100)}")
        for r in i["rows"]:
            lines.append(f"        {r['verifier']:>13}: {r['verdict']:<12} {float(r['score'] or 0):.2f}  {_short(r['message'])}")
        if not i["rows"]:
            lines.append("        (no verifier applies)")
        if status == "WRONG":
            lines.append(f"        label: {_short(i['why'], 130)}")
    head = f"{'status':5} claim  label -> machine verdict  claim text / verifier rows"
    return "\n".join([head] + lines) if lines else "(no mistakes)"


# ---------------------------------------------------------------------------------------------

def evaluate(doc: dict[str, Any], names: list[str] | None = None, *, work: Path = WORK, home: Path | None = None,
             instances: dict[str, Any] | None = None, engine=None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Import, verify twice (cold, warm) and score a claim set. Returns (result line, judged items)."""
    from vcr_core.store import get_engine

    if engine is None:
        url = prepare_environment(work, home)
        engine = get_engine(url)
    claims = import_claim_set(engine, doc, work)
    trace_ids = trace_ids_of(engine, claims)
    names = verifier_names(names)
    passes = run_passes(engine, trace_ids, names, instances)
    items = judge(claims, verdict_rows(engine, trace_ids))
    metrics = compute_metrics(items)
    result = {**{k: metrics[k] for k in ("coverage", "precision_supported", "precision_contradicted", "falsehood_recall",
                                         "absence_contradictions", "absence_detail", "closed_world_contradictions",
                                         "closed_world_precision", "claims", "true", "false",
                                         "supported", "contradicted", "primitives")},
              "traces": len(trace_ids), "explanations": len(doc["explanations"]),
              "cold_s": passes["cold_s"], "warm_s": passes["warm_s"], "traces_per_s": passes["traces_per_s"],
              "warm_matches_cold": passes["warm_matches_cold"], "warm_verifier_s": passes["verifier_s"],
              "verifiers_run": names,
              "per_verifier": metrics["per_verifier"], "per_kind": metrics["per_kind"],
              "per_primitive": metrics["per_primitive"]}
    result["targets"] = check_targets(result)
    result["all_targets_met"] = all(t["pass"] for t in result["targets"].values())
    return result, items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", action="append", default=None,
                    help="claim set JSON (may live outside the project); repeat to read several as one set "
                         "or name several joined by commas (default: bench/verify_claims.json and the "
                         "issue-20 sets)")
    ap.add_argument("--verifiers", default=None, help="comma-separated verifier names (default: the project's defaults)")
    ap.add_argument("--json-only", action="store_true", help="print only the JSON line")
    ap.add_argument("--table", default="mistakes", choices=("mistakes", "wrong", "all", "none"),
                    help="which claims the stderr table lists (default: wrong and missed)")
    ap.add_argument("--home", default=None, help="VCR_HOME to use (default: bench/_work/verify_eval/home); "
                                                 "the database is always a fresh file under bench/_work")
    ap.add_argument("--fresh-cache", action="store_true", help="delete the default home's caches first (a truly cold start)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    if args.fresh_cache and not args.home:
        shutil.rmtree(WORK / "home", ignore_errors=True)
    prepare_environment(WORK, Path(args.home) if args.home else None)
    if not args.claims:
        args.claims = [str(DEFAULT_CLAIMS), *(str(p) for p in EXTRA_CLAIMS if p.exists())]
    doc = load_claims(args.claims)
    problems, summary = check_claim_set(doc)
    if problems:
        print("the claim set has problems:\n  " + "\n  ".join(problems), file=sys.stderr)
        print(json.dumps({"error": "invalid claim set", "problems": problems}))
        return 2
    names = [n.strip() for n in args.verifiers.split(",") if n.strip()] if args.verifiers else None
    from vcr_core.kernel.settings import get_settings
    from vcr_core.store import get_engine
    engine = get_engine(get_settings().resolved_database_url)
    try:
        result, items = evaluate(doc, names, engine=engine)
    except ValueError as exc:  # e.g. an unknown verifier name
        print(f"verify_eval: {exc}", file=sys.stderr)
        print(json.dumps({"error": str(exc)}))
        return 2
    if not args.json_only:
        print(f"claim set {', '.join(args.claims)}: {summary['explanations']} explanations, {summary['claims']} claims "
              f"({summary['true']} true, {summary['false']} false: {summary['kinds']}), "
              f"{len(summary['primitives'])} primitives", file=sys.stderr)
        print(mistakes_table(items, args.table), file=sys.stderr)
        print("", file=sys.stderr)
        for k, t in result["targets"].items():
            print(f"  {k:24} {str(t['value']):>8}  target {t['target']:8} {'PASS' if t['pass'] else 'FAIL'}", file=sys.stderr)
        sys.stderr.flush()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
