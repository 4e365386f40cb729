"""The one-click demo: store the demo records and explain them with the default (assembly from
knowledge when no key is set, so the first graph is there in seconds)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from ..store import Trace, session_scope
from .runs import create_run


def start_demo(engine: Engine, records_path: str | Path, created_by: str | None = None) -> int:
    """Ingest ``records_path`` (a file already stored is reused) and queue a run on the default model.
    Returns the run id. With a key, the model gets the knowledge-graph tool's context; assembly from
    knowledge reads the graph itself and needs no tool."""
    from ..files.ingest import ingest_file
    from ..llm import resolve_model

    result = ingest_file(engine, records_path, created_by=created_by)
    if result.batch_id is None:
        raise ValueError("; ".join(str(p) for p in result.problems[:5]) or "the demo records could not be stored")
    choice = resolve_model()
    tools: list[str] = []
    if not choice.is_knowledge:
        from ..tools import tool_statuses
        statuses = tool_statuses()
        tools = [t for t in ("kg-ner",) if t in statuses and statuses[t].available]
    return create_run(engine, batch_id=result.batch_id, tools=tools, model_type=choice.provider if choice.is_knowledge else None,
                      mode="explain-only", options={"concurrency": 4}, created_by=created_by, name="demo")


def first_explained_trace(engine: Engine, run_id: int) -> dict[str, Any] | None:
    """The run's first trace with claims, as {'id', 'explanation', 'status', 'record_id'}, or None yet."""
    with session_scope(engine) as session:
        t = session.exec(select(Trace).where(Trace.run_id == run_id, Trace.n_claims > 0).order_by(Trace.id)).first()
        if t is None:
            return None
        return {"id": t.id, "explanation": t.explanation, "status": t.status, "record_id": t.record_id}
