"""The one-click demo: store the demo records and explain them with the default (assembly from
knowledge when no key is set, so the first graph is there in seconds).

A click explains the demo once: clicking again finds the demo run already made for those records and
shows it (``again=True`` explains them afresh, on purpose), so the queues never fill with duplicates."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from ..store import Run, Trace, session_scope
from .runs import create_run

DEMO_RUN_NAME = "demo"


@dataclass(frozen=True)
class DemoStart:
    """The demo run to show, and whether it was already there (no new traces were queued)."""

    run_id: int
    reused: bool


def existing_demo_run(engine: Engine, batch_id: int) -> int | None:
    """The newest demo run over ``batch_id`` that is running or done (a failed or cancelled one is not
    reused), or None."""
    with session_scope(engine) as session:
        return session.exec(select(Run.id).where(Run.batch_id == batch_id, Run.name == DEMO_RUN_NAME,
                                                 Run.status.notin_(("failed", "cancelled")))
                            .order_by(Run.id.desc())).first()


def start_demo(engine: Engine, records_path: str | Path, created_by: str | None = None, *,
               again: bool = False) -> DemoStart:
    """Ingest ``records_path`` (a file already stored is reused) and queue a run on the default model,
    unless a demo run over those records exists already (then that run is returned, ``reused``);
    ``again`` queues a new run all the same. With a key, the model gets the knowledge-graph tool's
    context; assembly from knowledge reads the graph itself and needs no tool."""
    from ..files.ingest import ingest_file
    from ..llm import resolve_model

    result = ingest_file(engine, records_path, created_by=created_by)
    if result.batch_id is None:
        raise ValueError("; ".join(str(p) for p in result.problems[:5]) or "the demo records could not be stored")
    if not again:
        existing = existing_demo_run(engine, result.batch_id)
        if existing is not None:
            return DemoStart(existing, True)
    choice = resolve_model()
    tools: list[str] = []
    if not choice.is_knowledge:
        from ..tools import tool_statuses
        statuses = tool_statuses()
        tools = [t for t in ("kg-ner",) if t in statuses and statuses[t].available]
    run_id = create_run(engine, batch_id=result.batch_id, tools=tools, model_type=choice.provider if choice.is_knowledge else None,
                        mode="explain-only", options={"concurrency": 4}, created_by=created_by, name=DEMO_RUN_NAME)
    return DemoStart(run_id, False)


def first_explained_trace(engine: Engine, run_id: int) -> dict[str, Any] | None:
    """The run's first trace with claims, as {'id', 'explanation', 'status', 'record_id', 'context'}, or None yet."""
    from ..store import Record

    with session_scope(engine) as session:
        t = session.exec(select(Trace).where(Trace.run_id == run_id, Trace.n_claims > 0).order_by(Trace.id)).first()
        if t is None:
            return None
        rec = session.get(Record, t.record_id)
        return {"id": t.id, "explanation": t.explanation, "status": t.status, "record_id": t.record_id,
                "record": rec.label if rec is not None else ""}
