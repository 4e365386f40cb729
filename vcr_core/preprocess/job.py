"""The background job that preprocesses a stored batch (kind 'preprocess', payload {"batch_id", "mode"})."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine

from ..store import Job, session_scope, utcnow
from . import preprocess_batch


def run_preprocess_job(job_id: int, engine: Engine) -> None:
    with session_scope(engine) as s:
        payload = dict(s.get(Job, job_id).payload or {})

    def progress(done: int, total: int) -> bool:
        with session_scope(engine) as s:
            s.execute(update(Job).where(Job.id == job_id).values(n_done=done, n_total=total, progress=done / total if total else 1.0,
                                                                 heartbeat_at=utcnow(), message=f"preprocessed {done} of {total}"))
            job = s.get(Job, job_id)
            return bool(job and job.cancel_requested)

    counts = preprocess_batch(engine, int(payload["batch_id"]), payload.get("mode", "ner-pubchem"), progress)
    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.id == job_id).values(message=f"{counts['done']} preprocessed, {counts['failed']} failed"))
