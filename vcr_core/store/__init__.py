"""Persistence: SQLModel tables, the engine (WAL, busy timeout, foreign keys) and migrations."""
from .engine import (dispose_engines, get_engine, locked_transaction, redact_url, schema_revision, session_scope, upgrade_database,
                     write_lock)
from .models import (Batch, Claim, ClaimReuseRow, ClaimStateRow, Curation, ExpressionRow, Job, LlmCall, Record, Run, Trace, TraceLease, TraceStateRow, TraceVerdict,
                     Verdict, utcnow)

__all__ = [
    "Batch", "Claim", "ClaimReuseRow", "ClaimStateRow", "Curation", "ExpressionRow", "Job", "LlmCall", "Record", "Run", "Trace", "TraceLease", "TraceStateRow", "TraceVerdict",
    "Verdict", "dispose_engines", "get_engine", "redact_url", "schema_revision", "session_scope",
    "locked_transaction", "missing_selection", "upgrade_database", "utcnow", "write_lock",
]


def missing_selection(engine, *, run_id: int | None = None, batch_id: int | None = None,
                      trace_ids: list[int] | None = None) -> str | None:
    """'run 9', 'batch 9' or 'trace 9' when a command's selection names one that does not exist, else None."""
    from sqlmodel import Session

    with Session(engine) as s:
        if run_id and s.get(Run, run_id) is None:
            return f"run {run_id}"
        if batch_id and s.get(Batch, batch_id) is None:
            return f"batch {batch_id}"
        return next((f"trace {t}" for t in trace_ids or [] if s.get(Trace, t) is None), None)
