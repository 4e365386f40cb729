"""Job infrastructure: the queue with fenced leases, the worker, its supervisor, the bounded executor loop.

Imports no feature: each job kind is a ``vcr.jobs`` entry point (generate, verify, preprocess) that the
worker looks up by name. The generation API (create_run, run_progress, ...) is :mod:`vcr_core.generation`.
"""
from .queue import enqueue, job_kinds
from .worker import Worker, ensure_worker, run_worker, stop_workers

__all__ = ["Worker", "enqueue", "ensure_worker", "job_kinds", "run_worker", "stop_workers"]
