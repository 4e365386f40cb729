"""Agreement statistics: Cohen's kappa between curators, and curators against the machine's verifiers."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..kernel.statuses import ClaimJudgment, VerdictValue
from ..store import (
    Claim,
    ClaimStateRow,
    Verdict,
)
from .consensus import CONSENSUS_RULES, CurationError, _consensus, consensus_rule  # noqa: F401 - re-exported

# INDRA's curation tags plus the ones action graphs need.


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None without items, 1.0 when both
    raters always give the same single label (perfect agreement, no chance term to correct)."""
    n = len(pairs)
    if not n:
        return None
    po = sum(a == b for a, b in pairs) / n
    labels = {x for p in pairs for x in p}
    pe = sum((sum(a == k for a, _ in pairs) / n) * (sum(b == k for _, b in pairs) / n) for k in labels)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def _claim_opinions(engine: Engine) -> list[tuple[int, str, dict[str, dict]]]:
    """(claim id, primitive, opinions) for every judged claim, from the kept state."""
    with Session(engine) as s:
        return [(cid, action, ops or {}) for cid, action, ops in s.exec(
            select(ClaimStateRow.claim_id, Claim.action, ClaimStateRow.opinions).join(Claim, Claim.id == ClaimStateRow.claim_id)).all()]


def inter_curator_agreement(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Cohen's kappa on claim verdicts per pair of curators (over the claims both judged), overall and
    per primitive: ``{"pairs": [...], "by_primitive": [...]}``."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    by_prim: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for _cid, action, ops in _claim_opinions(engine):
        names = sorted(ops)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                pair = (ops[a].get("verdict") or "none", ops[b].get("verdict") or "none")
                pairs.setdefault((a, b), []).append(pair)
                by_prim.setdefault((a, b, action), []).append(pair)

    def row(items):
        k = cohen_kappa(items)
        return {"claims": len(items), "agreement": round(sum(x == y for x, y in items) / len(items), 3),
                "kappa": None if k is None else round(k, 3)}

    return {"pairs": [{"curator_a": a, "curator_b": b, **row(v)} for (a, b), v in sorted(pairs.items())],
            "by_primitive": [{"curator_a": a, "curator_b": b, "primitive": p, **row(v)} for (a, b, p), v in sorted(by_prim.items())]}


def curator_vs_machine(engine: Engine) -> list[dict[str, Any]]:
    """Per verifier: how often curators' verdicts agree with the verifier's on the claims they judged,
    and how often they overrule it (the verifiers curators overrule most are the ones to improve).

    A verifier that could not run or could not decide (its verdict 'unverifiable': source unavailable,
    offline, nothing to check against) gave no verdict to overrule: those judgments are counted apart as
    ``could_not_run``, never as ``overruled``, and the rates are over the verdicts it did give."""
    ops = {cid: o for cid, _a, o in _claim_opinions(engine) if o}
    if not ops:
        return []
    stats: dict[str, dict[str, int]] = {}
    with Session(engine) as s:
        ids = list(ops)
        for i in range(0, len(ids), 500):
            for cid, verifier, verdict in s.exec(select(Verdict.claim_id, Verdict.verifier, Verdict.verdict)
                                                 .where(Verdict.claim_id.in_(ids[i:i + 500]))).all():
                st = stats.setdefault(verifier, {"judgments": 0, "agree": 0, "overruled": 0, "could_not_run": 0})
                for o in ops[cid].values():
                    if verdict == VerdictValue.UNVERIFIABLE:
                        st["could_not_run"] += 1
                        continue
                    st["judgments"] += 1
                    if o.get("verdict") == verdict:
                        st["agree"] += 1
                    elif o.get("judgment") == ClaimJudgment.OVERRIDE:
                        st["overruled"] += 1
    return sorted(({"verifier": v, **d, "agreement": round(d["agree"] / d["judgments"], 3) if d["judgments"] else None,
                    "overrule_rate": round(d["overruled"] / d["judgments"], 3) if d["judgments"] else None}
                   for v, d in stats.items()), key=lambda r: -(r["overrule_rate"] or 0))
