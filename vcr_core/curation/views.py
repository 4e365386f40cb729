"""Read models of curation for the pages: a trace's claims with their state, history, the filtered review
queue, progress per curator, a trace bundle, a run's records, a conflict."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..kernel.identity import key_or_none
from ..kernel.statuses import ClaimJudgment, CurationState, PolicyOutcome, VerdictValue
from ..store import (
    Batch,
    Claim,
    ClaimReuseRow,
    ClaimStateRow,
    Curation,
    Record,
    Run,
    Trace,
    TraceStateRow,
    TraceVerdict,
    Verdict,
)
from ..store.traces import trace_in_batch
from ..store.grounding import claim_grounding
from ..verify.policy import (
    aggregate_claim_verdict,
    current_rows,
    latest_trace_verdicts,
    latest_verdict_ids,
    trace_verdict_counts,
)
from .consensus import CONSENSUS_RULES, CurationError, _consensus, consensus_rule  # noqa: F401 - re-exported

# INDRA's curation tags plus the ones action graphs need.
from .log import _row_dict, _trace_status, disagreement, log_order, trace_state


def conflict_view(engine: Engine, trace_id: int) -> dict[str, Any]:
    """Both (all) curators' judgments side by side with the machine's: the trace-level opinions and,
    per claim in conflict or waiting for a second opinion, each curator's verdict and the machine's."""
    state = trace_state(engine, trace_id)
    rows = []
    for st in claim_states(engine, trace_id):
        if st.state_status in (CurationState.CONFLICT, CurationState.NEEDS_SECOND) or len(st.opinions) > 1:
            rows.append({"node_id": st.claim.node_id, "claim": st.claim.text, "machine": st.machine,
                         "status": st.state_status,
                         **{f"{who}": f"{o.get('verdict')} ({o.get('judgment')}{', ' + o['tag'] if o.get('tag') else ''})"
                            for who, o in sorted(st.opinions.items())}})
    return {"status": state["status"], "trace_opinions": state["opinions"], "claims": rows}


@dataclass
class ClaimState:
    """A claim with its machine verdicts, curations, kept state and the effective verdict."""

    claim: Claim
    verdicts: list[Verdict] = field(default_factory=list)
    curations: list[Curation] = field(default_factory=list)
    machine: str | None = None
    machine_score: float = 0.0
    effective: str | None = None
    judged_by: str | None = None
    version: int = 0
    state_status: str = "uncurated"
    opinions: dict[str, dict] = field(default_factory=dict)
    reuse: dict[str, Any] | None = None  # decided by a judgment on another claim with the same core (reuse.py)
    superseded: list[Verdict] = field(default_factory=list)  # older verdicts a verifier's newer one replaced

    @property
    def grounding(self) -> dict[str, list[dict[str, Any]]]:
        """Entity argument -> its stored grounded entities (``store.grounding.claim_grounding``)."""
        return claim_grounding(self.claim)

    @property
    def decided_by(self) -> str | None:
        """"decided by ana's judgment on trace #12 (same claim, any cell line), ..." when reuse decides it."""
        if not self.reuse:
            return None
        if self.reuse["status"] == CurationState.CONFLICT:
            return "curators disagree on this claim's core: " + self.reuse["source"].get("message", "")
        if self.reuse["status"] == CurationState.NEEDS_SECOND:
            return "waiting for a second curator on this claim's core: " + self.reuse["source"].get("message", "")
        return self.reuse["source"].get("message")

    @property
    def conflicting(self) -> bool:
        """Curators disagree with each other (a conflict under ``two_agree``, or differing verdicts that
        the latest decided under ``one``). One curator overriding the machine is not a conflict
        (``overrides_machine``)."""
        opinions = {o.get("verdict") for o in self.opinions.values() if o.get("verdict")}
        return self.state_status == CurationState.CONFLICT or len(opinions) > 1

    @property
    def overrides_machine(self) -> bool:
        """A curator's verdict differs from the machine's."""
        return any(o.get("judgment") == ClaimJudgment.OVERRIDE and o.get("verdict") != self.machine for o in self.opinions.values())

    def disagreement(self, rule: str | None = None) -> str | None:
        """How the curators disagree on this claim (``disagreement``), or None."""
        return disagreement(self.opinions, "verdict", consensus_rule(rule))

    def who(self) -> str:
        """'accepted by ana · overridden by ben → contradicted' — who judged the claim and how."""
        parts = []
        for name, o in self.opinions.items():  # in the order given (compute_state keeps it)
            parts.append(f"accepted by {name}" if o.get("judgment") == ClaimJudgment.ACCEPT
                         else f"overridden by {name} → {o.get('verdict')}" + (f" ({o['tag']})" if o.get("tag") else ""))
        return " · ".join(parts)


def claim_states(engine: Engine, trace_id: int) -> list[ClaimState]:
    """Every claim of a trace with its verdicts, curations and effective verdict (from the kept state)."""
    with Session(engine) as s:
        claims = s.exec(select(Claim).where(Claim.trace_id == trace_id).order_by(Claim.position)).all()
        verdicts = s.exec(select(Verdict).where(Verdict.trace_id == trace_id, Verdict.claim_id.is_not(None))
                          .order_by(Verdict.id)).all()
        curations = s.exec(select(Curation).where(Curation.trace_id == trace_id, Curation.target == "claim")).all()
        kept = {r.claim_id: r for r in s.exec(select(ClaimStateRow).where(ClaimStateRow.trace_id == trace_id)).all()}
        reused = {r.claim_id: r for r in s.exec(select(ClaimReuseRow).where(ClaimReuseRow.trace_id == trace_id)).all()}
    by_claim: dict[int, list] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim_id, []).append(v)
    cur_by_claim: dict[int, list] = {}
    for k in sorted(curations, key=lambda k: log_order(_row_dict(k))):
        cur_by_claim.setdefault(k.claim_id, []).append(k)
    states = []
    for c in claims:
        rows = by_claim.get(c.id, [])
        current = current_rows(rows)  # each verifier's newest: a re-grounding's recomputed verdicts replace the older
        st = ClaimState(claim=c, verdicts=current, curations=cur_by_claim.get(c.id, []),
                        superseded=[v for v in rows if v not in current])
        st.machine, st.machine_score = aggregate_claim_verdict([v for v in st.verdicts if v.verifier != "curated"])
        row = kept.get(c.id)
        r = reused.get(c.id)
        if r is not None:
            st.reuse = {"status": r.status, "verdict": r.verdict, "source": r.source or {}}
        reused_verdict = r.verdict if r is not None and r.status == CurationState.DECIDED else None
        st.effective = (row.verdict if row is not None and row.verdict and row.status == CurationState.DECIDED else None) \
            or reused_verdict or (row.verdict if row is not None and row.verdict else None) or st.machine
        if row is not None:
            st.judged_by, st.version, st.state_status, st.opinions = row.last_curator, row.version, row.status, row.opinions or {}
        states.append(st)
    return states


def graph_verdicts(states: list[ClaimState]) -> dict[str, dict[str, Any]]:
    """What the action graph shows of each claim (Review and Compare draw it alike): node id ->
    {"effective": verdict, "lines": one tooltip line per verifier, "curated": judged by a curator}."""
    return {stt.claim.node_id: {"effective": stt.effective, "curated": bool(stt.curations),
                                "lines": [f"{v.verifier}: {v.verdict} ({v.score:.2f}) {v.message or ''}" for v in stt.verdicts]}
            for stt in states}


def history(engine: Engine, trace_id: int) -> list[Curation]:
    """Every judgment on a trace and its claims, oldest first (:func:`log_order`)."""
    with Session(engine) as s:
        rows = list(s.exec(select(Curation).where(Curation.trace_id == trace_id).order_by(Curation.id)).all())
    return sorted(rows, key=lambda k: log_order(_row_dict(k)))


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
    """One page of the queue (uncurated first, then conflicting, then the rest) and the total count.

    A page past the end (the filters changed while on a later page) gives the last page's rows."""
    f = filters or QueueFilters()
    n_cur = (select(Curation.trace_id.label("tid"), func.count(Curation.id).label("n"),
                    func.sum(case((Curation.judgment == ClaimJudgment.OVERRIDE, 1), else_=0)).label("overrides"))
             .group_by(Curation.trace_id).subquery())
    last_tv = latest_verdict_ids()
    ts = TraceStateRow.__table__
    tv = TraceVerdict.__table__.alias("tv")
    status_expr = func.coalesce(ts.c.status, "uncurated")
    bucket = case((func.coalesce(n_cur.c.n, 0) == 0, 0), (status_expr == CurationState.CONFLICT, 1), (func.coalesce(n_cur.c.overrides, 0) > 0, 1),
                  else_=2)
    q = (select(Trace.id, Trace.status, Trace.model, Trace.n_claims, Trace.run_id, Record.batch_id, Record.label,
                Record.index, status_expr.label("curation"), tv.c.verdict.label("trace_verdict"),
                func.coalesce(n_cur.c.n, 0).label("n_curations"), bucket.label("bucket"))
         .join(Record, Record.id == Trace.record_id)
         .outerjoin(n_cur, n_cur.c.tid == Trace.id)
         .outerjoin(ts, ts.c.trace_id == Trace.id)
         .outerjoin(last_tv, last_tv.c.trace_id == Trace.id)
         .outerjoin(tv, tv.c.id == last_tv.c.vid))
    if f.batch_id is not None:
        q = q.where(trace_in_batch(f.batch_id))
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
        q = q.where(Trace.id.in_(select(Curation.trace_id).where(Curation.curator == (key_or_none(f.curator) or f.curator))))
    with Session(engine) as s:
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        page = max(0, min(page, (total - 1) // page_size if total else 0))
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
    """Per curator: claim and trace judgments made, and traces whose status they helped decide."""
    with Session(engine) as s:
        rows = s.exec(select(Curation.curator, Curation.target, func.count(Curation.id)).group_by(Curation.curator, Curation.target)).all()
        decided = s.exec(select(TraceStateRow.curators).where(TraceStateRow.status.in_(("approve", "reject", "needs_work")))).all()
    out: dict[str, dict[str, Any]] = {}
    for curator, target, n in rows:
        out.setdefault(curator, {"curator": curator, "claim judgments": 0, "trace judgments": 0, "traces decided": 0})
        out[curator]["claim judgments" if target != "trace" else "trace judgments"] += n  # a re-grounding is on a claim
    for names in decided:
        for name in names or []:
            if name in out:
                out[name]["traces decided"] += 1
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
        tv = latest_trace_verdicts(s, [trace_id]).get(trace_id)
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
        elif run.batch_id is not None and run.mode != "import":
            q = q.where(Record.batch_id == run.batch_id)
        else:  # imported runs: the records that have a trace (some may be another file's, see importers)
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


def overview_counts(engine: Engine) -> dict[str, Any]:
    """What the Overview page counts: traces and claims, traces by status and by current filter verdict,
    verifier verdicts by primitive, and every run's size, duration and cost."""
    with Session(engine) as s:
        n_traces = s.exec(select(func.count(Trace.id))).one()
        if not n_traces:
            return {"traces": 0, "claims": 0, "trace_verdicts": {}, "traces_by_status": {}, "verdicts_by_primitive": [],
                    "runs": []}
        by_primitive = [tuple(r) for r in s.exec(select(Claim.action, Verdict.verdict, func.count())
                                                 .join(Verdict, Verdict.claim_id == Claim.id)
                                                 .group_by(Claim.action, Verdict.verdict)).all()]
        runs = [{"run": f"#{r.id}", "model": r.model, "records": r.n_total, "cost_usd": r.cost_usd,
                 "minutes": ((r.finished_at - r.started_at).total_seconds() / 60) if r.finished_at and r.started_at else None}
                for r in s.exec(select(Run).order_by(Run.id)).all()]
        return {"traces": n_traces, "claims": s.exec(select(func.count(Claim.id))).one(),
                "trace_verdicts": trace_verdict_counts(s),
                "traces_by_status": dict(s.exec(select(Trace.status, func.count()).group_by(Trace.status)).all()),
                "verdicts_by_primitive": by_primitive, "runs": runs}


def approval_doubts(engine: Engine, trace_id: int) -> str | None:
    """Why approving the trace deserves a second look ("it fails the filter policy and claim(s) n3 are
    contradicted"), or None: the Review page asks the curator to confirm before it stores such an approval."""
    with Session(engine) as s:
        tv = latest_trace_verdicts(s, [trace_id]).get(trace_id)
    reasons = []
    if tv is not None and tv.verdict == PolicyOutcome.FAIL:
        reasons.append("it fails the filter policy")
    contradicted = [st.claim.node_id for st in claim_states(engine, trace_id) if st.effective == VerdictValue.CONTRADICTED]
    if contradicted:
        reasons.append(f"claim(s) {', '.join(contradicted)} are contradicted")
    return " and ".join(reasons) or None
