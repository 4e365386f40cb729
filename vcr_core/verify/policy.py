"""From verifier verdicts to the state of a claim, and the filter policy that keeps a trace.

A claim's machine verdict: ``contradicted`` when any verifier contradicts it with a score of at
least 0.5 (contradiction is rare and worth a curator's look), else ``supported`` when any evidence
verifier supports it (the entity and structural verifiers never count as support), else
``unverifiable``. The score is the strongest score behind that verdict.

Three outcomes for a trace:

* **fail** - a credible contradiction (a claim contradicted with a score of at least
  ``contradiction_min_score``), a structural error, or no explanation at all;
* **insufficient** - nothing is wrong, but too few claims could be decided: fewer than
  ``POLICY_MIN_SUPPORTED`` of its claims are supported (absence of evidence never fails a trace);
* **pass** - neither: no contradiction, no structural error and enough support.

The policy and its thresholds are stored with every trace verdict, so an old verdict can always be
explained; ``vcr export --verified-only`` exports the traces that pass.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from ..kernel.settings import get_settings
from ..kernel.statuses import PolicyOutcome
from ..store import Claim, Trace, TraceVerdict, Verdict
from ..store.models import utcnow
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, counts_as_support

POLICY_NAME = "default-v2"
PASS, FAIL, INSUFFICIENT = PolicyOutcome.PASS, PolicyOutcome.FAIL, PolicyOutcome.INSUFFICIENT
TRACE_VERDICTS = tuple(PolicyOutcome)



def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key)


def _verifier(row: Any) -> str | None:
    try:
        return _get(row, "verifier")
    except (AttributeError, KeyError):
        return None


def aggregate_claim_verdict(verdict_rows: Iterable[Any], min_contradiction: float = 0.5) -> tuple[str | None, float]:
    """The machine verdict of one claim from its Verdict rows (objects or dicts, oldest first); (None, 0)
    when none. Each verifier counts by its newest row only (:func:`current_rows`)."""
    rows = current_rows([r for r in verdict_rows if _get(r, "verdict")])
    if not rows:
        return None, 0.0
    contra = [float(_get(r, "score") or 0) for r in rows if _get(r, "verdict") == CONTRADICTED]
    if contra and max(contra) >= min_contradiction:
        return CONTRADICTED, max(contra)
    support = [float(_get(r, "score") or 0) for r in rows
               if _get(r, "verdict") == SUPPORTED and counts_as_support(_verifier(r))]
    if support:
        return SUPPORTED, max(support)
    return UNVERIFIABLE, 0.0


def current_rows(rows: list[Any]) -> list[Any]:
    """The rows of one claim that count: each verifier's newest (by id when the rows carry one, else the
    last given). Verdicts are appended, never overwritten, so a newer row of a verifier is a recomputation
    that supersedes its older ones: a changed or withdrawn judgment (the ``curated`` verifier), a claim
    re-verified after a curator re-grounded it, a new version of a verifier."""
    newest: dict[str, tuple[Any, int]] = {}
    for i, r in enumerate(rows):
        name = _verifier(r)
        try:
            order = _get(r, "id")
        except (AttributeError, KeyError):
            order = None
        key = (order if order is not None else -1, i)
        if name and (name not in newest or key > newest[name][1]):
            newest[name] = (i, key)
    keep = {i for i, _ in newest.values()}
    return [r for i, r in enumerate(rows) if not _verifier(r) or i in keep]


def current_policy() -> dict[str, Any]:
    """The filter policy in force, as stored with each trace verdict (thresholds from the settings)."""
    s = get_settings()
    return {"name": POLICY_NAME, "outcomes": list(TRACE_VERDICTS), "min_supported_share": s.policy_min_supported,
            "contradiction_min_score": s.policy_contradiction_min_score, "structural_errors_allowed": 0}


def policy_verdict(claim_ids: Iterable[int], verdicts: Iterable[Any], has_explanation: bool,
                   policy: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(outcome, summary) of the filter policy for one trace, from its claim ids and its Verdict rows
    (objects or dicts with ``claim_id``, ``verifier``, ``verdict``, ``score`` and, for trace-level rows,
    ``evidence``)."""
    claim_ids = list(claim_ids)
    by_claim: dict[int, list[Any]] = {}
    structural_errors = 0
    for v in verdicts:
        if _get(v, "claim_id") is None:
            if _get(v, "verifier") == "structural":
                structural_errors += sum(1 for e in (_get(v, "evidence") or []) if e.get("severity") == "error")
            continue
        by_claim.setdefault(_get(v, "claim_id"), []).append(v)
    counts = {SUPPORTED: 0, CONTRADICTED: 0, UNVERIFIABLE: 0, "none": 0}
    for cid in claim_ids:
        verdict, _ = aggregate_claim_verdict(by_claim.get(cid, []), policy.get("contradiction_min_score", 0.5))
        counts[verdict or "none"] += 1
    n = len(claim_ids)
    share = counts[SUPPORTED] / n if n else 0.0
    reasons = []
    if not has_explanation:
        reasons.append("no explanation")
    if counts[CONTRADICTED]:
        reasons.append(f"{counts[CONTRADICTED]} claim(s) contradicted")
    if structural_errors > policy.get("structural_errors_allowed", 0):
        reasons.append(f"{structural_errors} structural error(s)")
    outcome = FAIL if reasons else PASS
    if outcome == PASS and share < policy["min_supported_share"]:
        outcome = INSUFFICIENT
        reasons.append(f"insufficient evidence: {counts[SUPPORTED]} of {n} claim(s) supported ({share:.0%}), "
                       f"below {policy['min_supported_share']:.0%}; {counts[UNVERIFIABLE] + counts['none']} undecided")
    return outcome, {"claims": n, **counts, "supported_share": round(share, 4), "structural_errors": structural_errors,
                     "reasons": reasons}


def evaluate_trace(session: Session, trace: Trace, policy: dict[str, Any] | None = None) -> TraceVerdict:
    """Apply the filter policy to one trace and store (append) its TraceVerdict."""
    policy = policy or current_policy()
    claim_ids = session.exec(select(Claim.id).where(Claim.trace_id == trace.id)).all()
    verdicts = session.exec(select(Verdict).where(Verdict.trace_id == trace.id).order_by(Verdict.id)).all()
    outcome, summary = policy_verdict(claim_ids, verdicts, trace.explanation is not None, policy)
    tv = TraceVerdict(trace_id=trace.id, verdict=outcome, policy=policy, summary=summary)
    session.add(tv)
    session.flush()
    return tv


_V = Verdict.__table__
_CLAIM_IDS = select(Claim.__table__.c.id).where(Claim.__table__.c.trace_id == bindparam("tid"))
_CLAIM_VERDICTS = select(_V.c.claim_id, _V.c.verifier, _V.c.verdict, _V.c.score).where(
    _V.c.trace_id == bindparam("tid"), _V.c.claim_id.is_not(None)).order_by(_V.c.id)
_TRACE_FINDINGS = select(_V.c.claim_id, _V.c.verifier, _V.c.evidence).where(
    _V.c.trace_id == bindparam("tid"), _V.c.claim_id.is_(None), _V.c.verifier == "structural")
_HAS_EXPLANATION = select(Trace.__table__.c.explanation.is_not(None)).where(Trace.__table__.c.id == bindparam("tid"))


def evaluate_trace_on(conn: Connection, trace_id: int, policy: dict[str, Any] | None = None) -> str:
    """:func:`evaluate_trace` on a Core connection, reading only the columns the policy needs (the
    verification writer runs it inside its short write transaction); returns the outcome."""
    policy = policy or current_policy()
    claim_ids = [r[0] for r in conn.execute(_CLAIM_IDS, {"tid": trace_id})]
    verdicts = [dict(r._mapping) for r in conn.execute(_CLAIM_VERDICTS, {"tid": trace_id})]
    verdicts += [dict(r._mapping) for r in conn.execute(_TRACE_FINDINGS, {"tid": trace_id})]
    has_explanation = bool(conn.execute(_HAS_EXPLANATION, {"tid": trace_id}).scalar())
    outcome, summary = policy_verdict(claim_ids, verdicts, has_explanation, policy)
    conn.execute(TraceVerdict.__table__.insert(), {"trace_id": trace_id, "verdict": outcome, "policy": policy,
                                                   "summary": summary, "created_at": utcnow()})
    return outcome


def latest_verdict_ids():
    """A subquery (trace_id, vid) naming each trace's newest policy verdict: the one that counts (a trace
    verified twice keeps both rows). Every reader of "the trace's filter verdict" joins on it."""
    return (select(TraceVerdict.trace_id.label("trace_id"), func.max(TraceVerdict.id).label("vid"))
            .group_by(TraceVerdict.trace_id).subquery())


def latest_trace_verdicts(session: Session, trace_ids: list[int] | None = None) -> dict[int, TraceVerdict]:
    """The newest TraceVerdict per trace (of ``trace_ids``, or every trace)."""
    latest = latest_verdict_ids()
    q = select(TraceVerdict).join(latest, latest.c.vid == TraceVerdict.id)
    if trace_ids is not None:
        q = q.where(TraceVerdict.trace_id.in_(trace_ids))
    return {tv.trace_id: tv for tv in session.exec(q).all()}


def trace_verdict_counts(session: Session) -> dict[str, int]:
    """How many traces' current filter verdict is pass, fail, insufficient."""
    latest = latest_verdict_ids()
    rows = session.exec(select(TraceVerdict.verdict, func.count()).join(latest, latest.c.vid == TraceVerdict.id)
                        .group_by(TraceVerdict.verdict)).all()
    return dict(rows)
