"""Background runs: queue, worker, progress, cancel and resume (never imports streamlit).

App API: :func:`create_run`, :func:`enqueue`, :func:`cancel_run`, :func:`resume_run`,
:func:`ensure_worker`, :func:`run_progress` (and :func:`list_runs`).
"""
from .queue import enqueue, job_kinds
from .runs import DEFAULT_OPTIONS, cancel_run, create_run, list_runs, resume_run, run_progress
from .worker import Worker, ensure_worker, run_worker, stop_workers

__all__ = ["DEFAULT_OPTIONS", "Worker", "cancel_run", "create_run", "enqueue", "job_kinds", "ensure_worker", "list_runs", "resume_run",
           "run_progress", "run_worker", "stop_workers"]
