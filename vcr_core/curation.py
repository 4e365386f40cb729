"""Curation: curators' judgments (append-only), the state derived from them, and the review queue.

Machine verdicts (``Verdict``) and human judgments (``Curation``) are separate rows; nothing here
ever updates or deletes either. The current state is derived:

* a claim's **effective verdict** is the latest override of the latest-judging curator, or the
  machine verdict when the latest judgment accepts it (or nobody judged it);
* a trace's **curation status** is its latest trace-level judgment (``approve``, ``reject``,
  ``needs_work``), ``needs_review`` when a claim was judged after an approval, else ``uncurated``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from . import __version__ as APP_VERSION
from .store import Batch, Claim, Curation, Record, Run, Trace, TraceVerdict, Verdict, session_scope
from .verify.base import VERDICTS
from .verify.policy import aggregate_claim_verdict

# INDRA's curation tags plus the ones action graphs need.
REASON_TAGS = ("correct", "entity_boundaries", "grounding", "no_relation", "wrong_relation", "act_vs_amt", "polarity",
               "negative_result", "hypothesis", "agent_conditions", "mod_site", "wrong_direction", "context_mismatch",
               "citation_does_not_support", "fabricated_entity", "not_measurable", "other")
TRACE_JUDGMENTS = ("approve", "reject", "needs_work")
CLAIM_JUDGMENTS = ("accept", "override")


class CurationError(ValueError):
    """A judgment that cannot be stored as given; the message says what is missing."""


def _require_curator(curator: str | None) -> str:
    name = (curator or "").strip()
    if not name:
        raise CurationError("enter your curator name before judging")
    return name


def judge_claim(engine: Engine, claim_id: int, curator: str, judgment: str, *, verdict: str | None = None,
                tag: str | None = None, note: str | None = None) -> Curation:
    """Accept a claim's machine verdict, or override it with a verdict, a reason tag and a note."""
    curator = _require_curator(curator)
    if judgment not in CLAIM_JUDGMENTS:
        raise CurationError(f"a claim judgment is one of {', '.join(CLAIM_JUDGMENTS)}")
    if judgment == "override":
        if verdict not in VERDICTS:
            raise CurationError(f"an override needs a verdict: {', '.join(VERDICTS)}")
        if tag not in REASON_TAGS:
            raise CurationError("an override needs a reason tag from the list")
        if tag == "other" and not (note or "").strip():
            raise CurationError("the tag 'other' needs a note saying why")
    elif tag is not None and tag not in REASON_TAGS:
        raise CurationError("unknown reason tag")
    with session_scope(engine) as s:
        claim = s.get(Claim, claim_id)
        if claim is None:
            raise CurationError(f"there is no claim {claim_id}")
        machine, score = aggregate_claim_verdict(s.exec(select(Verdict).where(Verdict.claim_id == claim_id)).all())
        row = Curation(target="claim", trace_id=claim.trace_id, claim_id=claim.id, claim_hash=claim.hash, curator=curator,
                       judgment=judgment, verdict=verdict if judgment == "override" else machine, tag=tag, note=note or None,
                       claim_snapshot={"node_id": claim.node_id, "action": claim.action, "args": claim.args, "text": claim.text,
                                       "machine_verdict": machine, "machine_score": score},
                       app_version=APP_VERSION)
        s.add(row)
        if _trace_status(s, claim.trace_id) == "approve":
            # Reactome's rule: an edit after approval sends the item back to review.
            s.add(Curation(target="trace", trace_id=claim.trace_id, curator=curator, judgment="needs_review",
                           note=f"claim {claim.node_id} judged after approval", app_version=APP_VERSION))
        s.flush()
        return row


def judge_trace(engine: Engine, trace_id: int, curator: str, judgment: str, note: str | None = None) -> Curation:
    """Approve, reject or mark a trace as needing work."""
    curator = _require_curator(curator)
    if judgment not in TRACE_JUDGMENTS:
        raise CurationError(f"a trace judgment is one of {', '.join(TRACE_JUDGMENTS)}")
    with session_scope(engine) as s:
        if s.get(Trace, trace_id) is None:
            raise CurationError(f"there is no trace {trace_id}")
        row = Curation(target="trace", trace_id=trace_id, curator=curator, judgment=judgment, note=note or None,
                       app_version=APP_VERSION)
        s.add(row)
        s.flush()
        return row


def _trace_status(s: Session, trace_id: int) -> str:
    row = s.exec(select(Curation).where(Curation.trace_id == trace_id, Curation.target == "trace")
                 .order_by(Curation.id.desc())).first()
    return row.judgment if row else "uncurated"


def trace_status(engine: Engine, trace_id: int) -> str:
    """approve / reject / needs_work / needs_review / uncurated."""
    with Session(engine) as s:
        return _trace_status(s, trace_id)


@dataclass
class ClaimState:
    """A claim with its machine verdicts, curations and the effective verdict."""

    claim: Claim
    verdicts: list[Verdict] = field(default_factory=list)
    curations: list[Curation] = field(default_factory=list)
    machine: str | None = None
    machine_score: float = 0.0
    effective: str | None = None
    judged_by: str | None = None

    @property
    def conflicting(self) -> bool:
        latest = _latest_per_curator(self.curations)
        opinions = {c.verdict for c in latest.values() if c.verdict}
        return len(opinions) > 1 or any(c.judgment == "override" and c.verdict != self.machine for c in latest.values())


def _latest_per_curator(curations: list[Curation]) -> dict[str, Curation]:
    out: dict[str, Curation] = {}
    for c in sorted(curations, key=lambda c: c.id):
        out[c.curator] = c
    return out


def claim_states(engine: Engine, trace_id: int) -> list[ClaimState]:
    """Every claim of a trace with its verdicts, curations and effective verdict."""
    with Session(engine) as s:
        claims = s.exec(select(Claim).where(Claim.trace_id == trace_id).order_by(Claim.position)).all()
        verdicts = s.exec(select(Verdict).where(Verdict.trace_id == trace_id, Verdict.claim_id.is_not(None))).all()
        curations = s.exec(select(Curation).where(Curation.trace_id == trace_id, Curation.target == "claim")).all()
    states = []
    for c in claims:
        st = ClaimState(claim=c, verdicts=[v for v in verdicts if v.claim_id == c.id],
                        curations=sorted([k for k in curations if k.claim_id == c.id], key=lambda k: k.id))
        st.machine, st.machine_score = aggregate_claim_verdict(st.verdicts)
        st.effective = st.machine
        if st.curations:
            last = st.curations[-1]
            st.effective = last.verdict if last.judgment == "override" else st.machine
            st.judged_by = last.curator
        states.append(st)
    return states


def history(engine: Engine, trace_id: int) -> list[Curation]:
    """Every judgment on a trace and its claims, oldest first."""
    with Session(engine) as s:
        return list(s.exec(select(Curation).where(Curation.trace_id == trace_id).order_by(Curation.id)).all())


@dataclass
class QueueFilters:
    """Filters of the review queue; None means any."""

    batch_id: int | None = None
    run_id: int | None = None
    model: str | None = None
    trace_verdict: str | None = None  # pass / fail / insufficient / none
    verifier: str | None = None       # traces with verdicts from this verifier
    status: str | None = None         # uncurated / approve / reject / needs_work / needs_review
    curator: str | None = None        # traces this curator judged


def review_queue(engine: Engine, filters: QueueFilters | None = None, *, page: int = 0, page_size: int = 25) -> tuple[list[dict[str, Any]], int]:
    """One page of the queue (uncurated first, then conflicting, then the rest) and the total count."""
    f = filters or QueueFilters()
    n_cur = (select(Curation.trace_id.label("tid"), func.count(Curation.id).label("n"),
                    func.sum(case((Curation.judgment == "override", 1), else_=0)).label("overrides"))
             .group_by(Curation.trace_id).subquery())
    last_trace_cur = (select(Curation.trace_id.label("tid"), func.max(Curation.id).label("cid"))
                      .where(Curation.target == "trace").group_by(Curation.trace_id).subquery())
    last_tv = select(TraceVerdict.trace_id.label("tid"), func.max(TraceVerdict.id).label("vid")).group_by(TraceVerdict.trace_id).subquery()
    status_cur = Curation.__table__.alias("status_cur")
    tv = TraceVerdict.__table__.alias("tv")
    status_expr = func.coalesce(status_cur.c.judgment, "uncurated")
    bucket = case((func.coalesce(n_cur.c.n, 0) == 0, 0), (func.coalesce(n_cur.c.overrides, 0) > 0, 1), else_=2)
    q = (select(Trace.id, Trace.status, Trace.model, Trace.n_claims, Trace.run_id, Record.batch_id, Record.label,
                Record.index, status_expr.label("curation"), tv.c.verdict.label("trace_verdict"),
                func.coalesce(n_cur.c.n, 0).label("n_curations"), bucket.label("bucket"))
         .join(Record, Record.id == Trace.record_id)
         .outerjoin(n_cur, n_cur.c.tid == Trace.id)
         .outerjoin(last_trace_cur, last_trace_cur.c.tid == Trace.id)
         .outerjoin(status_cur, status_cur.c.id == last_trace_cur.c.cid)
         .outerjoin(last_tv, last_tv.c.tid == Trace.id)
         .outerjoin(tv, tv.c.id == last_tv.c.vid))
    if f.batch_id is not None:
        q = q.where(Record.batch_id == f.batch_id)
    if f.run_id is not None:
        q = q.where(Trace.run_id == f.run_id)
    if f.model:
        q = q.where(Trace.model == f.model)
    if f.trace_verdict == "none":
        q = q.where(tv.c.verdict.is_(None))
    elif f.trace_verdict:
        q = q.where(tv.c.verdict == f.trace_verdict)
    if f.status:
        q = q.where(status_expr == f.status)
    if f.verifier:
        q = q.where(Trace.id.in_(select(Verdict.trace_id).where(Verdict.verifier == f.verifier)))
    if f.curator:
        q = q.where(Trace.id.in_(select(Curation.trace_id).where(Curation.curator == f.curator)))
    with Session(engine) as s:
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        rows = s.exec(q.order_by(bucket, Trace.id).offset(page * page_size).limit(page_size)).all()
    keys = ("trace_id", "status", "model", "claims", "run_id", "batch_id", "record", "index", "curation", "trace_verdict",
            "curations", "bucket")
    out = []
    for r in rows:
        d = dict(zip(keys, r))
        d["queue"] = ("uncurated", "conflicting", "curated")[d.pop("bucket")]
        out.append(d)
    return out, total


def progress_by_curator(engine: Engine) -> list[dict[str, Any]]:
    """Claims and traces judged per curator."""
    with Session(engine) as s:
        rows = s.exec(select(Curation.curator, Curation.target, func.count(Curation.id)).group_by(Curation.curator, Curation.target)).all()
    out: dict[str, dict[str, Any]] = {}
    for curator, target, n in rows:
        out.setdefault(curator, {"curator": curator, "claim judgments": 0, "trace judgments": 0})
        out[curator]["claim judgments" if target == "claim" else "trace judgments"] += n
    return list(out.values())


def trace_bundle(engine: Engine, trace_id: int) -> dict[str, Any] | None:
    """A trace with its record, run, batch and latest trace verdict, for the detail view."""
    with Session(engine) as s:
        trace = s.get(Trace, trace_id)
        if trace is None:
            return None
        record = s.get(Record, trace.record_id)
        run = s.get(Run, trace.run_id)
        batch = s.get(Batch, record.batch_id) if record else None
        tv = s.exec(select(TraceVerdict).where(TraceVerdict.trace_id == trace_id).order_by(TraceVerdict.id.desc())).first()
        structural = s.exec(select(Verdict).where(Verdict.trace_id == trace_id, Verdict.claim_id.is_(None))).all()
        return {"trace": trace, "record": record, "run": run, "batch": batch, "trace_verdict": tv,
                "trace_findings": structural, "status": _trace_status(s, trace_id)}


def run_record_rows(engine: Engine, run_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Per record of a run: its status (pending until a trace exists), tokens, cost, time and errors."""
    with Session(engine) as s:
        run = s.get(Run, run_id)
        if run is None:
            return []
        q = select(Record.id, Record.index, Record.label)
        if run.record_ids:
            q = q.where(Record.id.in_(run.record_ids))
        elif run.batch_id is not None:
            q = q.where(Record.batch_id == run.batch_id)
        else:  # imported runs: only the records that have a trace
            q = q.where(Record.id.in_(select(Trace.record_id).where(Trace.run_id == run_id)))
        records = s.exec(q.order_by(Record.position).limit(limit)).all()
        traces = {t.record_id: t for t in s.exec(select(Trace).where(Trace.run_id == run_id,
                                                                     Trace.record_id.in_([r[0] for r in records]))).all()}
    rows = []
    for rid, index, label in records:
        t = traces.get(rid)
        errors = (t.errors or []) if t else []
        rows.append({"record": f"{index}: {label}", "status": t.status if t else "pending", "trace": t.id if t else None,
                     "claims": t.n_claims if t else None, "tokens": (t.prompt_tokens + t.completion_tokens) if t else None,
                     "cost_usd": round(t.cost_usd, 5) if t else None, "seconds": round(t.latency_s, 1) if t else None,
                     "errors": "; ".join(str(e)[:200] for e in errors[:3])})
    return rows
