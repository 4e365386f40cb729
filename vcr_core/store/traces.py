"""Saving traces with their claims: one function shared by generation and import."""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from ..formalism import Explanation, Finding, claim_hash, node_to_text, to_text
from ..formalism.hashing import Grounder
from ..records.model import PREPROCESSING_FIELDS
from ..records.model import Record as RecordModel
from .models import Claim, Record, Run, Trace


def trace_in_batch(batch_id: int):
    """The condition 'this trace came from batch ``batch_id``' (for a query joining Trace and Record): its
    record is in the batch, or its run is (an imported trace may join a record of another file)."""
    return or_(Record.batch_id == batch_id, Trace.run_id.in_(select(Run.id).where(Run.batch_id == batch_id)))


def record_model(row: Record) -> RecordModel:
    """The normalised record model of a stored record row (preprocessing output merged in)."""
    data = dict(row.normalized or {"index": row.index, "shape": "single"})
    data["raw"] = row.raw or {}
    rec = RecordModel.model_validate(data)
    pre = row.preprocessed or {}
    for key in PREPROCESSING_FIELDS:
        if pre.get(key) is not None:
            setattr(rec, key, pre[key])
    return rec


def save_trace(
    session: Session,
    *,
    run_id: int,
    record: Record,
    explanation: Explanation | None,
    findings: list[Finding] | None = None,
    grounder: Grounder | None = None,
    **fields: Any,
) -> Trace:
    """Insert (or replace, for the same run and record) a trace and its claim rows.

    ``status`` defaults to 'ok' when there are no error findings, 'invalid' when there are, and
    'failed' when there is no explanation at all. Extra ``fields`` are Trace columns (report,
    raw_output, text_form, tool_context, errors, model, tokens, ...).
    """
    findings = findings or []
    existing = session.exec(select(Trace).where(Trace.run_id == run_id, Trace.record_id == record.id)).first()
    if existing is not None:
        for claim in session.exec(select(Claim).where(Claim.trace_id == existing.id)).all():
            session.delete(claim)
        session.flush()
        trace = existing
    else:
        trace = Trace(run_id=run_id, record_id=record.id)
    if "status" not in fields:
        if explanation is None:
            fields["status"] = "failed"
        else:
            fields["status"] = "invalid" if any(f.severity == "error" for f in findings) else "ok"
    if explanation is not None and not fields.get("text_form"):
        fields["text_form"] = to_text(explanation)  # the canonical text form, for export and display
    for key, value in fields.items():
        setattr(trace, key, value)
    trace.explanation = explanation.model_dump(mode="json") if explanation is not None else None
    trace.findings = [f.model_dump() for f in findings]
    claims = explanation.claims if explanation is not None else []
    trace.n_claims = len(claims)
    session.add(trace)
    session.flush()
    context = record_model(record).context_key()
    for pos, node in enumerate(claims):
        session.add(Claim(
            trace_id=trace.id, position=pos, node_id=node.id, action=node.action,
            args=node.args, via=node.via,
            confidence=None if node.confidence is None else str(node.confidence),
            text=node_to_text(node), hash=claim_hash(node, context, grounder),
        ))
    session.flush()
    return trace
