"""What the team knows: every judged core (verdict, curators, evidence, traces decided), exported as CSV
or JSONL, and imported into another database, where it decides that database's claims too.

An exported row is one core: its primitive, grounded entities, direction, the consensus verdict and
status, and each curator's active judgment on it (curator, verdict, tag, note, scope with its reason,
the grounded perturbation and cell line it was made in, when). Importing replays each judgment as a
judgment of the same curator on one claim of the target database with the same core inside the
judgment's scope (noted "imported"); reuse then decides the rest. A judgment whose core does not occur
there in scope is reported, not stored.
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..kernel.statuses import CurationState, VerdictValue
from ..store import Claim, ClaimReuseRow, ClaimStateRow, Curation, Verdict
from .consensus import CurationError, _consensus, consensus_rule
from .core import scope_matches
from .reuse import NAME as REUSE_VERIFIER
from .reuse import _opinions, identify_and_reuse

FORMATS = ("jsonl", "csv")
_C, _CU, _CS, _R, _V = (Claim.__table__, Curation.__table__, ClaimStateRow.__table__, ClaimReuseRow.__table__,
                        Verdict.__table__)


def judged_cores(engine: Engine, rule: str | None = None) -> list[dict[str, Any]]:
    """Every core with at least one active judgment, most traces decided first."""
    identify_and_reuse(engine)
    rule = consensus_rule(rule)
    with engine.connect() as conn:
        log = [dict(r._mapping) for r in conn.execute(
            select(_CU.c.id, _CU.c.curator, _CU.c.judgment, _CU.c.verdict, _CU.c.tag, _CU.c.note, _CU.c.claim_id,
                   _CU.c.trace_id, _CU.c.created_at, _CU.c.claim_snapshot, _C.c.pert_key, _C.c.cell_key, _C.c.action,
                   _C.c.core, _C.c.grounding)
            .join(_C, _C.c.id == _CU.c.claim_id).where(_CU.c.target == "claim", _C.c.core.is_not(None)).order_by(_CU.c.id))]
        decided_own = defaultdict(set)
        for core, tid in conn.execute(select(_C.c.core, _C.c.trace_id).join(_CS, _CS.c.claim_id == _C.c.id)
                                      .where(_CS.c.status == CurationState.DECIDED)):
            decided_own[core].add(tid)
        for core, tid in conn.execute(select(_R.c.core, _R.c.trace_id).where(_R.c.status == CurationState.DECIDED)):
            decided_own[core].add(tid)
        machine = defaultdict(lambda: defaultdict(int))
        judged_ids = list({r["claim_id"] for r in log})
        for i in range(0, len(judged_ids), 500):
            for cid, verifier, verdict in conn.execute(select(_V.c.claim_id, _V.c.verifier, _V.c.verdict).where(
                    _V.c.claim_id.in_(judged_ids[i:i + 500]), _V.c.verifier != REUSE_VERIFIER)):
                machine[cid][f"{verifier}:{verdict}"] += 1
    by_core: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in log:
        by_core[r["core"]].append(r)
    out = []
    for core, rows in by_core.items():
        active, _own = _opinions(rows, rule)
        if not active:
            continue
        latest = {}
        for o in sorted(active, key=lambda o: o["id"]):
            latest[o["curator"]] = o
        status, verdict = _consensus(latest, "verdict", rule)
        first = rows[0]
        grounding = (first.get("grounding") or {})
        evidence: dict[str, int] = defaultdict(int)
        for o in active:
            for k, n in machine.get(o["claim_id"], {}).items():
                evidence[k] += n
        out.append({
            "core": core, "primitive": first["action"],
            "entities": {arg: [e.get("identifier") for e in ents] for arg, ents in (grounding.get("args") or {}).items()},
            "names": {arg: [e.get("canonical") or e.get("name") for e in ents] for arg, ents in (grounding.get("args") or {}).items()},
            "direction": grounding.get("direction"), "status": status, "verdict": verdict,
            "curators": sorted(latest), "traces_decided": len(decided_own.get(core, ())),
            "evidence": dict(sorted(evidence.items())),
            "judgments": [{"curator": o["curator"], "judgment": o["judgment"], "verdict": o["verdict"], "tag": o["tag"],
                           "note": o["note"], "scope": o["scope"], "scope_reason": o.get("scope_reason"),
                           "perturbation": o["pert_key"], "cell": o["cell_key"], "trace_id": o["trace_id"],
                           "at": str(o["created_at"])} for o in sorted(active, key=lambda o: o["id"])],
        })
    return sorted(out, key=lambda r: (-r["traces_decided"], r["primitive"], r["core"]))


def export_knowledge(engine: Engine, fmt: str = "jsonl", rule: str | None = None) -> bytes:
    """The judged cores as JSONL (one core per line, every judgment) or CSV (one core per row)."""
    if fmt not in FORMATS:
        raise CurationError(f"a knowledge export is one of {', '.join(FORMATS)}")
    rows = judged_cores(engine, rule)
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["core", "primitive", "entities", "direction", "status", "verdict", "curators", "traces_decided",
                "evidence", "judgments"])
    for r in rows:
        w.writerow([r["core"], r["primitive"], "; ".join(f"{a}={','.join(map(str, v))}" for a, v in r["entities"].items()),
                    r["direction"] or "", r["status"], r["verdict"] or "", ", ".join(r["curators"]), r["traces_decided"],
                    "; ".join(f"{k}×{n}" for k, n in r["evidence"].items()),
                    json.dumps(r["judgments"], ensure_ascii=False)])
    return buf.getvalue().encode("utf-8")


def import_knowledge(engine: Engine, data: bytes, rule: str | None = None) -> dict[str, Any]:
    """Replay an exported JSONL knowledge file's judgments on this database's claims (see the module
    docstring). Nothing is stored when a line does not parse. Returns counts and the cores not found."""
    from .log import judge_claim

    rule = consensus_rule(rule)
    items = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            assert isinstance(item, dict) and isinstance(item["core"], str) and isinstance(item["judgments"], list)
        except (ValueError, KeyError, AssertionError, TypeError):
            raise CurationError(f"line {n}: not a knowledge export line (JSONL from `vcr knowledge export`)") from None
        items.append(item)
    identify_and_reuse(engine)
    counts = {"cores": len(items), "judgments": 0, "claims_decided": 0, "not_here": 0}
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(_R).where(_R.c.status == CurationState.DECIDED)).scalar_one()
    for item in items:
        with engine.connect() as conn:
            claims = [dict(r._mapping) for r in conn.execute(
                select(_C.c.id, _C.c.trace_id, _C.c.pert_key, _C.c.cell_key).where(_C.c.core == item["core"]).order_by(_C.c.id))]
        for j in item["judgments"]:
            source = {"trace_id": None, "pert_key": j.get("perturbation"), "cell_key": j.get("cell")}
            scope = "context" if j.get("scope") == "trace" else j.get("scope", "context")
            target = next((c for c in claims if scope_matches(scope, source, c)), None)
            if target is None:
                counts["not_here"] += 1
                continue
            note = f"imported from team knowledge (trace #{j.get('trace_id')} there)" + (f": {j['note']}" if j.get("note") else "")
            # replayed as an override with the verdict it had: this database's machine verdicts may differ
            judge_claim(engine, target["id"], j["curator"], "override", verdict=j.get("verdict") or "unverifiable",
                        tag=j.get("tag") or "correct", note=note, rule=rule, scope=scope,
                        scope_reason=j.get("scope_reason") or "as judged in the team's knowledge")
            counts["judgments"] += 1
    with engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(_R).where(_R.c.status == CurationState.DECIDED)).scalar_one()
    counts["claims_decided"] = counts["judgments"] + max(0, after - before)
    return counts


def judge_core(engine: Engine, core: str, curator: str, verdict: str, *, tag: str | None = None, note: str | None = None,
               scope: str | None = None, scope_reason: str | None = None, rule: str | None = None):
    """Judge a core at once (the core view): the judgment is made on the core's first occurrence that no
    curator judged yet (else its first) and decides every other occurrence in ``scope``."""
    from .log import judge_claim

    with engine.connect() as conn:
        cid = conn.execute(select(func.min(_C.c.id)).where(_C.c.core == core, _C.c.id.not_in(select(_CS.c.claim_id)))).scalar() \
            or conn.execute(select(func.min(_C.c.id)).where(_C.c.core == core)).scalar()
    if cid is None:
        raise CurationError("there is no claim with this core")
    return judge_claim(engine, cid, curator, "override", verdict=verdict, tag=tag or ("correct" if verdict == VerdictValue.SUPPORTED else "other"),
                       note=note or ("judged on the core view" if verdict != VerdictValue.SUPPORTED else None), scope=scope,
                       scope_reason=scope_reason, rule=rule)
