"""The ``generate`` job kind (a ``vcr.jobs`` entry point like verify and preprocess)."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from ..jobs.control import JobContext, JobControl
from ..jobs.queue import Lease
from ..store import Job, session_scope
from .generate import run_generate_job


def run_generate(job_id: int, engine: Engine, lease: Lease | None = None, context: JobContext | None = None) -> str:
    """Generate the pending records of the job's run; returns the job's final status ('done', 'failed',
    'cancelled', 'queued' when released on shutdown, 'lost' when another worker took the job over)."""
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        run_id = job.run_id or (job.payload or {}).get("run_id")
    context = context or JobContext(JobControl(lease))
    return run_generate_job(engine, int(run_id), context.control, context.concurrency, context.on_progress,
                            executor=context.executor, max_concurrent_calls=context.max_concurrent_calls)
