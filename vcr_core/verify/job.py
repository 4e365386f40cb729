"""The background job that verifies a run, a batch, some traces or everything (kind 'verify').

With the worker's ``lease`` every write is fenced: each trace's verdicts are committed only while the
lease is current, so a worker that froze and was replaced writes nothing once it wakes (it stops with
:class:`~vcr_core.jobs.queue.LeaseLost` at its next commit)."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from ..store import Job, session_scope
from .runner import select_trace_ids, verify_traces


def run_verify_job(job_id: int, engine: Engine, lease=None) -> None:
    """Payload: {"run_id"} | {"trace_ids": [...]} | {"batch_id"} | {"all": true}, optional "verifiers".
    ``lease`` (a :class:`~vcr_core.jobs.queue.Lease`) fences every write; None for a direct call."""
    from ..jobs.queue import report_progress, set_job_message

    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        payload = dict(job.payload or {})
    ids = select_trace_ids(engine, run_id=payload.get("run_id"), trace_ids=payload.get("trace_ids"),
                           batch_id=payload.get("batch_id"), all_traces=bool(payload.get("all")))

    def progress(done: int, total: int) -> bool:
        return report_progress(engine, job_id, lease, done, total, f"verified {done} of {total} trace(s)")

    report_progress(engine, job_id, lease, 0, len(ids), f"verifying {len(ids)} trace(s)")
    summary = verify_traces(engine, ids, payload.get("verifiers"), progress=progress, lease=lease)
    set_job_message(engine, job_id, lease, f"verified {summary['traces']} trace(s): {summary['computed']} new "
                                           f"verdict(s), {summary['cached']} reused")
