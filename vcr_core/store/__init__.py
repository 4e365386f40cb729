"""Persistence: SQLModel tables, the engine (WAL, busy timeout, foreign keys) and migrations."""
from .engine import dispose_engines, get_engine, redact_url, schema_revision, session_scope, upgrade_database
from .models import (Batch, Claim, Curation, ExpressionRow, Job, LlmCall, Record, Run, Trace, TraceVerdict,
                     Verdict, utcnow)

__all__ = [
    "Batch", "Claim", "Curation", "ExpressionRow", "Job", "LlmCall", "Record", "Run", "Trace", "TraceVerdict",
    "Verdict", "dispose_engines", "get_engine", "redact_url", "schema_revision", "session_scope",
    "upgrade_database", "utcnow",
]
