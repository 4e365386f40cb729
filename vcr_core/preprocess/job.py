"""The background job that preprocesses a stored batch (kind 'preprocess', payload {"batch_id", "mode"}).

With the worker's ``lease`` each record's result is committed only while the lease is current, so a
worker that froze and was replaced writes nothing once it wakes."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from ..store import Job, session_scope
from . import preprocess_batch


def run_preprocess_job(job_id: int, engine: Engine, lease=None) -> None:
    """Preprocess the payload's batch; ``lease`` (a :class:`~vcr_core.jobs.queue.Lease`) fences every write."""
    from ..jobs.queue import report_progress, set_job_message

    with session_scope(engine) as s:
        payload = dict(s.get(Job, job_id).payload or {})

    def progress(done: int, total: int) -> bool:
        return report_progress(engine, job_id, lease, done, total, f"preprocessed {done} of {total}")

    counts = preprocess_batch(engine, int(payload["batch_id"]), payload.get("mode", "ner-pubchem"), progress,
                              lease=lease)
    set_job_message(engine, job_id, lease, f"{counts['done']} preprocessed, {counts['failed']} failed")
