"""The job queue in the database: enqueue, claim (atomically), heartbeat, finish.

A job is claimed with a conditional UPDATE, so two workers never run the same job. A running job
whose worker stopped sending heartbeats (or whose process on this host is gone) is *stale* and
may be claimed again; the work it did is kept because each (run, record) is stored once.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from ..store import Job, session_scope, utcnow

KINDS = ("generate", "verify", "preprocess")
ACTIVE = ("queued", "running")
STALE_AFTER_S = 60.0
HEARTBEAT_S = 2.0


def new_worker_id() -> str:
    """``host:pid:random``, so a worker on the same host can tell when the owner's process is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_dead(worker_id: str | None) -> bool:
    """True when ``worker_id`` names a process on this host that no longer exists."""
    if not worker_id:
        return True
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def is_stale(job: Job, stale_after_s: float = STALE_AFTER_S) -> bool:
    """A running job whose heartbeat is older than ``stale_after_s`` or whose owner process is gone."""
    if job.status != "running":
        return False
    beat = _aware(job.heartbeat_at)
    if beat is None or beat < utcnow() - timedelta(seconds=stale_after_s):
        return True
    return _owner_dead(job.worker_id)


def enqueue(engine: Engine, kind: str, payload: dict | None = None, run_id: int | None = None) -> int:
    """Queue a job; returns its id. A generate job for a run that already has an active one is not
    queued twice (the existing job's id is returned)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known kinds: {', '.join(KINDS)}")
    payload = dict(payload or {})
    if run_id is None and isinstance(payload.get("run_id"), int):
        run_id = payload["run_id"]
    with session_scope(engine) as session:
        if run_id is not None and kind in ("generate", "verify"):
            existing = session.exec(select(Job).where(Job.kind == kind, Job.run_id == run_id,
                                                      Job.status.in_(ACTIVE))).first()
            if existing is not None:
                return existing.id
        job = Job(kind=kind, run_id=run_id, payload=payload, status="queued")
        session.add(job)
        session.flush()
        return job.id


def claim(engine: Engine, worker_id: str, *, job_id: int | None = None, kinds: tuple[str, ...] = KINDS,
          stale_after_s: float = STALE_AFTER_S) -> Job | None:
    """Atomically take the oldest queued (or stale) job, or ``job_id`` if given; None if none."""
    with session_scope(engine) as session:
        query = select(Job).where(Job.status.in_(ACTIVE), Job.kind.in_(kinds)).order_by(Job.id)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        candidates = session.exec(query).all()
    now = utcnow()
    for job in candidates:
        if job.status == "running" and not is_stale(job, stale_after_s):
            continue
        cond = [Job.id == job.id, Job.status == job.status]
        cond.append(Job.worker_id == job.worker_id if job.worker_id is not None else Job.worker_id.is_(None))
        with session_scope(engine) as session:
            res = session.execute(update(Job).where(*cond).values(
                status="running", worker_id=worker_id, heartbeat_at=now,
                started_at=job.started_at or now, message=("picked up again after its worker stopped"
                                                            if job.status == "running" else None)))
            if res.rowcount == 1:
                return session.get(Job, job.id)
    return None


def heartbeat(engine: Engine, job_id: int, worker_id: str, **values) -> tuple[bool, bool]:
    """Refresh the heartbeat (and progress ``values``); returns (still ours, cancel requested)."""
    with session_scope(engine) as session:
        res = session.execute(update(Job).where(Job.id == job_id, Job.worker_id == worker_id,
                                                Job.status == "running").values(heartbeat_at=utcnow(), **values))
        job = session.get(Job, job_id)
        return res.rowcount == 1, bool(job and job.cancel_requested)


def finish(engine: Engine, job_id: int, worker_id: str | None, status: str, *, error: str | None = None,
           message: str | None = None) -> None:
    """Mark a job done / failed / cancelled, or back to queued (``status='queued'``) to release it."""
    values: dict = {"status": status, "error": error}
    if message is not None:
        values["message"] = message
    if status == "queued":
        values.update(worker_id=None, heartbeat_at=None)
    else:
        values["finished_at"] = utcnow()
        if status == "done":
            values["progress"] = 1.0
    cond = [Job.id == job_id]
    if worker_id is not None:
        cond.append(Job.worker_id == worker_id)
    with session_scope(engine) as session:
        session.execute(update(Job).where(*cond).values(**values))
