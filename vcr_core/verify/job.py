"""The background job that verifies a run, a batch, some traces or everything (kind 'verify')."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine

from ..store import Job, session_scope, utcnow
from .runner import select_trace_ids, verify_traces


def run_verify_job(job_id: int, engine: Engine) -> None:
    """Payload: {"run_id"} | {"trace_ids": [...]} | {"batch_id"} | {"all": true}, optional "verifiers"."""
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        payload = dict(job.payload or {})
    ids = select_trace_ids(engine, run_id=payload.get("run_id"), trace_ids=payload.get("trace_ids"),
                           batch_id=payload.get("batch_id"), all_traces=bool(payload.get("all")))

    def progress(done: int, total: int) -> bool:
        with session_scope(engine) as session:
            session.execute(update(Job).where(Job.id == job_id).values(
                n_done=done, n_total=total, progress=done / total if total else 1.0, heartbeat_at=utcnow(),
                message=f"verified {done} of {total} trace(s)"))
            job = session.get(Job, job_id)
            return bool(job and job.cancel_requested)

    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(n_total=len(ids), message=f"verifying {len(ids)} trace(s)"))
    summary = verify_traces(engine, ids, payload.get("verifiers"), progress=progress)
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(
            message=f"verified {summary['traces']} trace(s): {summary['computed']} new verdict(s), {summary['cached']} reused"))
