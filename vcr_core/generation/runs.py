"""Runs: records x configuration, their status, counters, tokens and cost.

Counters are recomputed from the stored traces and calls (not incremented), so they stay right
after a crash, a resume or a stale job picked up twice.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from ..agents.pipeline import MODES
from ..jobs.queue import ACTIVE, STALE_AFTER_S, Lease, enqueue, fence, is_stale
from ..kernel.statuses import JobStatus
from ..llm import LOCAL_MODEL_SHORT, ModelChoice, resolve_model
from ..store import Batch, Job, Record, Run, Trace, session_scope, utcnow
from ..tools.base import DEFAULT_KG_NUM_NEIGHBOR

KNOWLEDGE_NOTE = ("assembled from knowledge bases by rules, not reasoned by a model: restates known biology, "
                  "inferences labelled")
DEFAULT_OPTIONS: dict[str, Any] = {
    "kg_with_rel": False, "kg_num_neighbor": DEFAULT_KG_NUM_NEIGHBOR, "pubmed_num_papers": 30, "max_items": 0, "order": False,
    "concurrency": 4, "output_format": "auto", "rpm": None, "timeout": None, "api_base": None,
}


def create_run(engine: Engine, *, batch_id: int | None, record_ids: list[int] | None = None,
               tools: list[str] | None = None, model_type: str | None = None, model: str | None = None,
               mode: str = "report-explain", options: dict | None = None, created_by: str | None = None,
               name: str | None = None, enqueue_job: bool = True) -> int:
    """Create a run over a batch (or a selection of record ids) and queue its generate job.

    ``options``: kg_with_rel, kg_num_neighbor, pubmed_num_papers, max_items, order, concurrency,
    output_format ('auto', 'text', 'json'), rpm, timeout, api_base, experiment_name, folder_name.
    Raises ValueError for an unknown mode, model type, batch or record id.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    opts = {**DEFAULT_OPTIONS, **(options or {}), "model_type": model_type}
    choice = resolve_model(model_type, model, opts.get("api_base"))
    with session_scope(engine) as session:
        ids = _record_ids(session, batch_id, record_ids)
        if opts.get("max_items"):
            ids = ids[: int(opts["max_items"])]
        if not ids:
            raise ValueError("the run has no records: the batch is empty or the selection matched nothing")
        run = Run(name=name or _default_name(session, batch_id, choice), batch_id=batch_id, record_ids=ids,
                  tools=list(tools or []), provider=choice.provider, model=choice.model, mode=mode,
                  options=opts, status="queued", n_total=len(ids), created_by=created_by,
                  meta={"api_base": choice.api_base, "is_local": choice.is_local})
        session.add(run)
        session.flush()
        run_id = run.id
    if enqueue_job:
        enqueue(engine, "generate", {"run_id": run_id}, run_id=run_id)
    return run_id


def _record_ids(session, batch_id: int | None, record_ids: list[int] | None) -> list[int]:
    if record_ids is not None:
        found = set(session.exec(select(Record.id).where(Record.id.in_(record_ids))).all())
        missing = [i for i in record_ids if i not in found]
        if missing:
            raise ValueError(f"unknown record id(s): {missing[:10]}")
        return list(dict.fromkeys(record_ids))
    if batch_id is None:
        raise ValueError("give a batch or a selection of records")
    if session.get(Batch, batch_id) is None:
        raise ValueError(f"there is no batch {batch_id}")
    return list(session.exec(select(Record.id).where(Record.batch_id == batch_id).order_by(Record.position)).all())


def _default_name(session, batch_id: int | None, choice: ModelChoice) -> str:
    batch = session.get(Batch, batch_id) if batch_id is not None else None
    return f"{batch.name if batch else 'selection'} · {choice.model.split('/', 1)[-1]}"


def refresh_counts(engine: Engine, run_id: int) -> None:
    """Recompute a run's counters, tokens and cost from its traces and model calls."""
    sql = text("""
        UPDATE run SET
          n_done = (SELECT count(*) FROM trace WHERE trace.run_id = :rid),
          n_failed = (SELECT count(*) FROM trace WHERE trace.run_id = :rid AND trace.status = 'failed'),
          n_invalid = (SELECT count(*) FROM trace WHERE trace.run_id = :rid AND trace.status = 'invalid'),
          prompt_tokens = (SELECT coalesce(sum(prompt_tokens), 0) FROM llmcall WHERE llmcall.run_id = :rid),
          completion_tokens = (SELECT coalesce(sum(completion_tokens), 0) FROM llmcall WHERE llmcall.run_id = :rid),
          cost_usd = (SELECT coalesce(sum(cost_usd), 0.0) FROM llmcall WHERE llmcall.run_id = :rid)
        WHERE id = :rid""")
    with session_scope(engine) as session:
        session.execute(sql, {"rid": run_id})


def set_run_status(engine: Engine, run_id: int, status: str, *, error: str | None = None,
                   only_from: tuple[str, ...] | None = None, lease: Lease | None = None) -> bool:
    """Set a run's status (and finish time for final states); ``only_from`` guards the transition.
    With ``lease`` (the generate job's ownership) nothing changes once the lease is lost."""
    values: dict[str, Any] = {"status": status, "error": error}
    if status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED):
        values["finished_at"] = utcnow()
    elif status == JobStatus.RUNNING:
        values["finished_at"] = None
    cond = [Run.id == run_id]
    if only_from:
        cond.append(Run.status.in_(only_from))
    with session_scope(engine) as session:
        if not fence(session, lease):
            return False
        if status == JobStatus.RUNNING:
            run = session.get(Run, run_id)
            if run is not None and run.started_at is None:
                values["started_at"] = utcnow()
        return session.execute(update(Run).where(*cond).values(**values)).rowcount == 1


def cancel_run(engine: Engine, run_id: int) -> bool:
    """Stop a run: no new records start, records in flight finish, finished traces are kept.
    Returns False when the run had already finished."""
    changed = set_run_status(engine, run_id, "cancelled", error="cancelled by a user",
                             only_from=("queued", "running"))
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.run_id == run_id, Job.kind == "generate", Job.status == JobStatus.QUEUED)
                        .values(status="cancelled", finished_at=utcnow(), cancel_requested=True))
        session.execute(update(Job).where(Job.run_id == run_id, Job.kind == "generate", Job.status == JobStatus.RUNNING)
                        .values(cancel_requested=True))
    return changed


def resume_run(engine: Engine, run_id: int) -> int:
    """Queue a run again (after a cancel, a failure or a crash). Records already done are kept and
    skipped; failed ones are tried again. Returns the generate job's id."""
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise ValueError(f"there is no run {run_id}")
    set_run_status(engine, run_id, "queued", error=None)
    return enqueue(engine, "generate", {"run_id": run_id}, run_id=run_id)


def _iso(dt) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat(timespec="seconds")


def run_progress(engine: Engine, run_id: int, stale_after_s: float = STALE_AFTER_S) -> dict[str, Any]:
    """Everything a progress view needs about a run (counts, fraction, tokens, cost, ETA, jobs)."""
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise ValueError(f"there is no run {run_id}")
        jobs = session.exec(select(Job).where(Job.run_id == run_id).order_by(Job.id)).all()
        by_status = dict(session.exec(select(Trace.status, func.count()).where(Trace.run_id == run_id)
                                      .group_by(Trace.status)).all())
    gen = [j for j in jobs if j.kind == "generate"]
    job = gen[-1] if gen else None
    verify = [j for j in jobs if j.kind == "verify"]
    elapsed = eta = None
    if run.started_at is not None:
        start = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=timezone.utc)
        end = run.finished_at or utcnow()
        end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
        elapsed = max(0.0, (end - start).total_seconds())
        if run.status == JobStatus.RUNNING and run.n_done:
            # Measured, never assumed: wall-clock time so far per finished record (concurrency included).
            eta = elapsed / run.n_done * max(0, run.n_total - run.n_done)
    is_local = bool((run.meta or {}).get("is_local"))
    in_flight = ((job.payload or {}).get("in_flight") or []) if job is not None and job.status == JobStatus.RUNNING else []
    return {
        "id": run.id, "name": run.name, "status": run.status, "mode": run.mode, "batch_id": run.batch_id,
        "provider": run.provider, "model": run.model, "is_local": is_local,
        "model_note": LOCAL_MODEL_SHORT if is_local else (KNOWLEDGE_NOTE if run.provider == "knowledge" else None), "tools": run.tools or [],
        "n_total": run.n_total, "n_done": run.n_done, "n_ok": by_status.get("ok", 0),
        "n_invalid": run.n_invalid, "n_failed": run.n_failed,
        "fraction": (run.n_done / run.n_total) if run.n_total else 0.0,
        "prompt_tokens": run.prompt_tokens, "completion_tokens": run.completion_tokens,
        "cost_usd": round(run.cost_usd or 0.0, 6), "error": run.error,
        "created_at": _iso(run.created_at), "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
        "elapsed_s": elapsed, "eta_s": eta, "created_by": run.created_by, "in_flight": in_flight,
        "seconds_per_record": (elapsed / run.n_done) if elapsed is not None and run.n_done else None,
        "job": None if job is None else {
            "id": job.id, "status": job.status, "message": job.message, "error": job.error,
            "heartbeat_at": _iso(job.heartbeat_at), "stale": is_stale(job, stale_after_s)},
        "verify_job": None if not verify else {"id": verify[-1].id, "status": verify[-1].status,
                                               "error": verify[-1].error},
        "active": run.status in ACTIVE,
    }


def format_duration(seconds: float | None) -> str:
    """A measured duration as people read it: '0.4 s', '12 s', '3 min 05 s' (never a rounded '0 s')."""
    if seconds is None:
        return "unknown"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def list_runs(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs with their progress."""
    with session_scope(engine) as session:
        ids = session.exec(select(Run.id).order_by(Run.id.desc()).limit(limit)).all()
    return [run_progress(engine, i) for i in ids]


def run_failure_reasons(engine: Engine, run_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Records of a run whose trace failed or is incomplete/invalid, with every error in full (never cut)."""
    with session_scope(engine) as session:
        rows = session.exec(select(Trace, Record).where(Trace.run_id == run_id, Trace.record_id == Record.id,
                                                        Trace.status.in_(("failed", "invalid")))
                            .order_by(Trace.id).limit(limit)).all()
    out = []
    for t, r in rows:
        errors = [str(e) for e in (t.errors or [])]
        findings = [f"{f.get('message')} ({f.get('code')})" for f in (t.findings or []) if f.get("severity") == "error"]
        out.append({"record": f"{r.index}: {r.label}", "trace": t.id, "status": t.status,
                    "errors": errors, "findings": findings})
    return out


def any_run_active(engine: Engine) -> bool:
    """Is any run queued or running? One small query (the Generate page polls only then)."""
    from sqlmodel import Session

    with Session(engine) as s:
        return s.exec(select(Run.id).where(Run.status.in_(ACTIVE)).limit(1)).first() is not None
