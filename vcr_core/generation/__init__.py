"""Generation: runs of records through tools and agents (or the knowledge assembler) into stored traces.

App API: :func:`create_run`, :func:`cancel_run`, :func:`resume_run`, :func:`run_progress`,
:func:`list_runs`. The worker runs a run as the ``generate`` job (a ``vcr.jobs`` entry point).
"""
from .runs import DEFAULT_OPTIONS, cancel_run, create_run, list_runs, resume_run, run_progress

__all__ = ["DEFAULT_OPTIONS", "cancel_run", "create_run", "list_runs", "resume_run", "run_progress"]
