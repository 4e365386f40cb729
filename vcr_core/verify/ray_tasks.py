"""``vcr verify --executor ray``: chunks of traces as Ray tasks, through the jobs' executor loop."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.engine import Engine

from ..jobs.executor import RayAdapter, run_bounded, use_database


def verify_task(database_url: str, trace_ids: list[int], verifiers: list[str] | None, since_ts: float) -> dict:
    """Verify a chunk of traces inside a Ray task. Traces judged since ``since_ts`` (by an earlier
    attempt of this task, whose worker died) are skipped, so each trace is verified once per call."""
    from datetime import datetime, timezone

    from sqlmodel import select

    from ..store import TraceVerdict, get_engine, session_scope
    from .runner import verify_traces

    use_database(database_url)
    engine = get_engine(database_url, upgrade=False)
    since = datetime.fromtimestamp(since_ts, timezone.utc)
    with session_scope(engine) as session:
        rows = session.exec(select(TraceVerdict.trace_id, TraceVerdict.created_at)
                            .where(TraceVerdict.trace_id.in_(trace_ids))).all()
    done = {t for t, at in rows if (at if at.tzinfo else at.replace(tzinfo=timezone.utc)) >= since}
    todo = [t for t in trace_ids if t not in done]
    summary = verify_traces(engine, todo, verifiers) if todo else {"traces": 0, "computed": 0, "cached": 0,
                                                                   "by_verifier": {}, "trace_verdicts": {}}
    summary["skipped"] = len(done)
    return summary


def verify_with_ray(engine: Engine, trace_ids: list[int], verifiers: list[str] | None = None, *,
                    chunk: int = 10, progress: Callable[[int, int], None] | None = None,
                    task_retries: int = 3) -> dict:
    """``vcr verify --executor ray``: chunks of traces as Ray tasks; returns the merged summary."""
    import time
    from collections import Counter

    url = engine.url.render_as_string(hide_password=False)
    since = time.time() - 1.0
    chunks = [trace_ids[i:i + chunk] for i in range(0, len(trace_ids), chunk)]
    adapter = RayAdapter(verify_task, lambda ids: (url, ids, verifiers, since), task_retries=task_retries)
    merged: dict = {"traces": 0, "computed": 0, "cached": 0, "trace_verdicts": Counter(), "errors": []}
    done = 0

    def on_result(ids: list[int], part: dict | None, exc: BaseException | None) -> None:
        nonlocal done
        done += len(ids)
        if exc is not None:  # reported, the rest goes on
            merged["errors"].append(str(exc)[:300])
            return
        for key in ("traces", "computed", "cached"):
            merged[key] += part.get(key, 0)
        merged["trace_verdicts"].update(part.get("trace_verdicts", {}))
        merged.setdefault("verifiers", part.get("verifiers"))
        if progress:
            progress(done, len(trace_ids))

    run_bounded(chunks, adapter, limit=len(chunks), should_stop=lambda: False, on_result=on_result)
    merged["trace_verdicts"] = dict(merged["trace_verdicts"])
    merged.setdefault("verifiers", verifiers or [])
    return merged
