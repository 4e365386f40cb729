"""Ray as the executor of a run's records (``vcr generate --executor ray``, ``vcr worker --executor ray``).

The job itself is still owned the ordinary way: the driver claims the run's generate job (a lease),
beats its heartbeat and writes the run's progress and final status, so the app shows a Ray run like
any other. Each pending record becomes one Ray task on the cluster at ``RAY_ADDRESS`` (Ray's own
convention; a local cluster with a fixed number of CPUs when unset). A task opens the shared
database itself, skips its record when a trace is already stored (a task Ray retried after its
worker died), generates, and stores the trace fenced by the driver's lease: after a driver failure
another driver (or a plain ``vcr worker``) claims the job, and tasks of the old one can no longer
write. Model-provider budgets are the database's shared limits, so they hold for the whole cluster;
``max_concurrent_calls`` caps calls in flight per provider across every task.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import Engine

from .queue import Lease

log = logging.getLogger(__name__)

DEFAULT_OBJECT_STORE_BYTES = 200 * 1024 * 1024
# Non-secret settings a task needs; API keys are never shipped: nodes have their own environment.
FORWARDED_ENV = ("OFFLINE", "LLM_TIMEOUT_S", "LLM_MAX_RETRIES", "LLM_MAX_CONCURRENT", "SHARED_RATE_LIMITS",
                 "NER_BACKEND", "PUBMED_BACKEND", "DEFAULT_MODEL")


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached (the message says what to do)."""


def ray_module():
    """The ``ray`` package, or :class:`RayUnavailable` with the install command."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable("the Ray executor needs Ray: pip install -e '.[ray]'") from exc
    return ray


def ensure_ray(address: str | None = None, num_cpus: int | None = None,
               object_store_bytes: int = DEFAULT_OBJECT_STORE_BYTES) -> str:
    """Connect to the cluster at ``address`` (default ``RAY_ADDRESS``), or start a local one with
    ``num_cpus`` CPUs (default: this machine's) and a small object store; returns a description."""
    ray = ray_module()
    if ray.is_initialized():
        return "connected"
    address = address or os.environ.get("RAY_ADDRESS") or None
    env = {"PYTHONPATH": os.pathsep.join([_code_root()] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    env.update({k: os.environ[k] for k in FORWARDED_ENV if k in os.environ})
    try:
        if address:
            ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False)
            return f"Ray cluster at {address}"
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, object_store_memory=object_store_bytes,
                 include_dashboard=False, runtime_env={"env_vars": env}, log_to_driver=False,
                 _node_ip_address="127.0.0.1")
    except Exception as exc:  # noqa: BLE001 - the reason goes to the user
        raise RayUnavailable(f"could not start or reach Ray ({address or 'local cluster'}): {exc}") from exc
    return f"local Ray cluster ({num_cpus or os.cpu_count()} CPU)"


def _code_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def record_task(database_url: str, run_id: int, record_id: int, lease: tuple | None,
                cluster_max: int | None = None) -> str:
    """One record, inside a Ray task: skip when already stored, else generate and store (fenced)."""
    from sqlmodel import select

    from ..llm.ratelimit import limiter_for
    from ..store import Run, Trace, get_engine, session_scope
    from .generate import config_for_run, process_record

    _use_database(database_url)
    engine = get_engine(database_url, upgrade=False)
    with session_scope(engine) as session:
        done = session.exec(select(Trace.status).where(Trace.run_id == run_id, Trace.record_id == record_id)).first()
        run = session.get(Run, run_id)
    if done in ("ok", "invalid"):
        return done  # a retry of a task whose worker died after storing: the record is done once
    cfg = config_for_run(run)
    if cluster_max:
        limiter_for(cfg.choice.provider, cluster_max=cluster_max)
    return process_record(engine, run_id, record_id, cfg, Lease(*lease) if lease else None)


def _use_database(database_url: str) -> None:
    """In a Ray worker: the run's database is the one whose shared rate limits the task keeps."""
    if os.environ.get("DATABASE_URL") != database_url:
        from ..settings import get_settings

        os.environ["DATABASE_URL"] = database_url
        get_settings.cache_clear()


def run_pool_ray(engine: Engine, run_id: int, todo: list[int], control, workers: int,
                 on_progress: Callable[[int, int], None] | None, *, max_concurrent_calls: int | None = None,
                 task_retries: int = 3) -> list[str]:
    """Submit ``todo`` as Ray tasks (at most ``workers`` in flight); the driver's loop stops submitting
    as soon as ``control`` says stop. Returns the errors of records that failed outright."""
    from .generate import LeaseLost

    ray = ray_module()
    ensure_ray()
    url = engine.url.render_as_string(hide_password=False)
    lease = control.lease
    lease_t = (lease.job_id, lease.worker_id, lease.epoch) if lease else None
    remote = ray.remote(max_retries=task_retries, retry_exceptions=False, num_cpus=1)(record_task)
    queue, pending, errors, done = list(todo), {}, [], 0
    while queue or pending:
        while queue and len(pending) < workers and not control.stop:
            rid = queue.pop(0)
            pending[remote.remote(url, run_id, rid, lease_t, max_concurrent_calls)] = rid
        if not pending:
            break
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
        for ref in ready:
            rid = pending.pop(ref)
            done += 1
            try:
                ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - a record's crash is reported, the run goes on
                cause = getattr(exc, "cause", None) or exc
                if isinstance(cause, LeaseLost) or "LeaseLost" in str(exc):
                    control.lost.set()
                    done -= 1
                    continue
                log.warning("record %s failed in run %s: %s", rid, run_id, exc)
                errors.append(f"{type(cause).__name__}: {cause}"[:500])
            if on_progress:
                on_progress(done, len(todo))
    return errors


def shutdown_ray() -> None:
    """Disconnect from (and, for a local cluster, stop) Ray."""
    try:
        import ray
    except ImportError:
        return
    if ray.is_initialized():
        ray.shutdown()


def verify_task(database_url: str, trace_ids: list[int], verifiers: list[str] | None, since_ts: float) -> dict:
    """Verify a chunk of traces inside a Ray task. Traces judged since ``since_ts`` (by an earlier
    attempt of this task, whose worker died) are skipped, so each trace is verified once per call."""
    from datetime import datetime, timezone

    from sqlmodel import select

    from ..store import TraceVerdict, get_engine, session_scope
    from ..verify.runner import verify_traces

    _use_database(database_url)
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

    ray = ray_module()
    ensure_ray()
    url = engine.url.render_as_string(hide_password=False)
    since = time.time() - 1.0
    remote = ray.remote(max_retries=task_retries, num_cpus=1)(verify_task)
    refs = {remote.remote(url, trace_ids[i:i + chunk], verifiers, since): len(trace_ids[i:i + chunk])
            for i in range(0, len(trace_ids), chunk)}
    merged: dict = {"traces": 0, "computed": 0, "cached": 0, "trace_verdicts": Counter(), "errors": []}
    done = 0
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
        for ref in ready:
            done += refs.pop(ref)
            try:
                part = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - reported, the rest goes on
                merged["errors"].append(str(exc)[:300])
                continue
            for key in ("traces", "computed", "cached"):
                merged[key] += part.get(key, 0)
            merged["trace_verdicts"].update(part.get("trace_verdicts", {}))
            merged.setdefault("verifiers", part.get("verifiers"))
            if progress:
                progress(done, len(trace_ids))
    merged["trace_verdicts"] = dict(merged["trace_verdicts"])
    merged.setdefault("verifiers", verifiers or [])
    return merged
