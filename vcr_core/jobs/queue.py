"""The job queue in the database: enqueue, claim (atomically), heartbeat, finish.

A job is claimed with a conditional UPDATE, so two workers never run the same job. A running job
whose worker stopped sending heartbeats (or whose process on this host is gone) is *stale* and
may be claimed again; the work it did is kept because each (run, record) is stored once.

Ownership is fenced: every claim raises the job's ``lease`` (an epoch), and every write a worker
makes for a job (progress, a trace, the run's status, queueing verification, finishing) first
touches the job row *with its lease* in the same transaction (:func:`fence`). A worker that froze
(SIGSTOP, a paused VM) past the heartbeat timeout and was replaced finds its lease gone when it
wakes, and its writes change nothing. Because the fence is an UPDATE of the job row, a concurrent
claim waits for the fenced transaction to commit (SQLite's write lock, PostgreSQL's row lock).

On PostgreSQL the queue claims with ``SELECT ... FOR UPDATE SKIP LOCKED`` so many workers on many
hosts never queue behind each other; SQLite keeps the conditional UPDATE.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from ..store import Job, session_scope, utcnow


def job_kinds() -> tuple[str, ...]:
    """Every registered job kind (``vcr.jobs`` entry points: generate, verify, preprocess and plug-ins)."""
    from ..kernel.registry import JOBS, names

    return tuple(names(JOBS))

from ..kernel.statuses import (
    ACTIVE,  # noqa: E402 - one definition of "not finished"
    JobStatus,
)

STALE_AFTER_S = 60.0
HEARTBEAT_S = 2.0
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Lease:
    """A worker's ownership of one job: the job, the worker and the epoch it claimed."""

    job_id: int
    worker_id: str
    epoch: int

    def conditions(self) -> list:
        """SQL conditions that hold only while this lease is the job's current one."""
        return [Job.id == self.job_id, Job.worker_id == self.worker_id, Job.lease == self.epoch,
                Job.status == JobStatus.RUNNING]


class LeaseLost(RuntimeError):
    """The job was taken over by another worker: this one must not write for it any more."""


def lease_of(job: Job) -> Lease:
    """The lease a claimed job row carries."""
    return Lease(job.id, job.worker_id or "", int(job.lease or 0))


def fence(session: Session | Connection, lease: Lease | None, clock: Clock | None = None) -> bool:
    """Make ``session``'s transaction conditional on ``lease``: True while it is still current.

    The check is an UPDATE of the job row (it also refreshes the heartbeat, a write proves life), so
    the transaction holds the row until it commits and a claim by another worker waits for it. Call
    it first in the transaction; when it returns False, write nothing. ``lease=None`` (user actions,
    single-process tools) always passes.
    """
    if lease is None:
        return True
    res = session.execute(update(Job).where(*lease.conditions()).values(heartbeat_at=(clock or utcnow)()))
    return res.rowcount == 1


def fence_or_raise(session: Session | Connection, lease: Lease | None, what: str) -> None:
    """:func:`fence`, raising :class:`LeaseLost` once ``lease`` is gone; ``what`` (e.g. "the verdicts of
    trace 7") names what is left unwritten. Raised inside ``session_scope`` it rolls the transaction back."""
    if not fence(session, lease):
        raise LeaseLost(f"job {lease.job_id} was taken over by another worker; {what} not written")


def report_progress(engine: Engine, job_id: int, lease: Lease | None, done: int, total: int,
                    message: str | None = None) -> bool:
    """A registered job's progress (``n_done``/``n_total``, the heartbeat, ``message``), fenced by
    ``lease`` when given (:class:`LeaseLost` once it is gone). Returns whether a cancel was requested."""
    cond = lease.conditions() if lease is not None else [Job.id == job_id]
    values: dict = {"n_done": done, "n_total": total, "progress": done / total if total else 1.0,
                    "heartbeat_at": utcnow()}
    if message is not None:
        values["message"] = message
    with session_scope(engine) as session:
        if session.execute(update(Job).where(*cond).values(**values)).rowcount != 1 and lease is not None:
            raise LeaseLost(f"job {job_id} was taken over by another worker; its progress not written")
        job = session.get(Job, job_id)
        return bool(job and job.cancel_requested)


def set_job_message(engine: Engine, job_id: int, lease: Lease | None, message: str, **values) -> bool:
    """Write a registered job's ``message`` (and other columns), fenced by ``lease`` when given;
    returns whether the row changed (False: the job belongs to another worker now)."""
    cond = lease.conditions() if lease is not None else [Job.id == job_id]
    with session_scope(engine) as session:
        return session.execute(update(Job).where(*cond).values(message=message, **values)).rowcount == 1


def owns(engine: Engine, lease: Lease | None) -> bool:
    """True while ``lease`` is still the job's current one (a read, for deciding to start work)."""
    if lease is None:
        return True
    with session_scope(engine) as session:
        return session.exec(select(Job.id).where(*lease.conditions())).first() is not None


def require_lease(engine: Engine, lease: Lease | None, what: str) -> None:
    """:class:`LeaseLost` unless ``lease`` is current: a read before costly work (loading a model,
    a vocabulary), so a replaced worker does not start it. Writes are still fenced when they commit."""
    if not owns(engine, lease):
        raise LeaseLost(f"job {lease.job_id} was taken over by another worker; {what} not started")


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


def is_stale(job: Job, stale_after_s: float = STALE_AFTER_S, clock: Clock | None = None) -> bool:
    """A running job whose heartbeat is older than ``stale_after_s`` or whose owner process is gone."""
    if job.status != JobStatus.RUNNING:
        return False
    beat = _aware(job.heartbeat_at)
    if beat is None or beat < (clock or utcnow)() - timedelta(seconds=stale_after_s):
        return True
    return _owner_dead(job.worker_id)


def enqueue(engine: Engine, kind: str, payload: dict | None = None, run_id: int | None = None,
            *, lease: Lease | None = None) -> int | None:
    """Queue a job; returns its id. A generate job for a run that already has an active one is not
    queued twice (the existing job's id is returned). With ``lease`` (a job queueing its follow-up,
    e.g. verification after generation) nothing is queued and None returned once the lease is lost."""
    if kind not in job_kinds():
        raise ValueError(f"unknown job kind {kind!r}; known kinds: {', '.join(job_kinds())}")
    payload = dict(payload or {})
    if run_id is None and isinstance(payload.get("run_id"), int):
        run_id = payload["run_id"]
    with session_scope(engine) as session:
        if not fence(session, lease):
            return None
        if run_id is not None and kind in ("generate", "verify"):
            existing = session.exec(select(Job).where(Job.kind == kind, Job.run_id == run_id,
                                                      Job.status.in_(ACTIVE))).first()
            if existing is not None:
                return existing.id
        job = Job(kind=kind, run_id=run_id, payload=payload, status="queued")
        session.add(job)
        session.flush()
        return job.id


def claim(engine: Engine, worker_id: str, *, job_id: int | None = None, kinds: tuple[str, ...] | None = None,
          stale_after_s: float = STALE_AFTER_S, clock: Clock | None = None) -> Job | None:
    """Atomically take the oldest queued (or stale) job, or ``job_id`` if given; None if none.

    The claimed row carries a new ``lease`` (see :func:`lease_of`); the previous owner's lease is void.
    ``clock`` (default: now, UTC) decides staleness, so tests can jump past the heartbeat timeout.
    ``kinds`` defaults to every known kind.
    """
    kinds = kinds or job_kinds()
    clock = clock or utcnow
    if engine.dialect.name == "postgresql":
        return _claim_skip_locked(engine, worker_id, job_id, kinds, stale_after_s, clock)
    with session_scope(engine) as session:
        query = select(Job).where(Job.status.in_(ACTIVE), Job.kind.in_(kinds)).order_by(Job.id)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        candidates = session.exec(query).all()
    now = clock()
    for job in candidates:
        if job.status == JobStatus.RUNNING and not is_stale(job, stale_after_s, clock):
            continue
        cond = [Job.id == job.id, Job.status == job.status, Job.lease == job.lease]
        cond.append(Job.worker_id == job.worker_id if job.worker_id is not None else Job.worker_id.is_(None))
        with session_scope(engine) as session:
            res = session.execute(update(Job).where(*cond).values(**_claim_values(job, worker_id, now)))
            if res.rowcount == 1:
                return session.get(Job, job.id)
    return None


def _claim_values(job: Job, worker_id: str, now: datetime) -> dict:
    return dict(status="running", worker_id=worker_id, heartbeat_at=now, lease=int(job.lease or 0) + 1,
                started_at=job.started_at or now,
                message=("picked up again after its worker stopped" if job.status == JobStatus.RUNNING else None))


def _claim_skip_locked(engine: Engine, worker_id: str, job_id: int | None, kinds: tuple[str, ...],
                       stale_after_s: float, clock: Clock) -> Job | None:
    """PostgreSQL: lock the first claimable row, skipping rows other workers hold (no waiting)."""
    now = clock()
    with session_scope(engine) as session:
        query = (select(Job).where(Job.status.in_(ACTIVE), Job.kind.in_(kinds)).order_by(Job.id)
                 .with_for_update(skip_locked=True))
        if job_id is not None:
            query = query.where(Job.id == job_id)
        # Fetch a few at a time: running rows that are alive are skipped in Python (owner liveness
        # needs /proc), and the lock is held only on the rows read.
        for job in session.exec(query.limit(50)).all():
            if job.status == JobStatus.RUNNING and not is_stale(job, stale_after_s, clock):
                continue
            session.execute(update(Job).where(Job.id == job.id).values(**_claim_values(job, worker_id, now)))
            session.flush()
            session.refresh(job)
            return job
    return None


def heartbeat(engine: Engine, job_id: int, worker_id: str, *, lease: Lease | None = None,
              **values) -> tuple[bool, bool]:
    """Refresh the heartbeat (and progress ``values``); returns (still ours, cancel requested)."""
    cond = lease.conditions() if lease is not None else [Job.id == job_id, Job.worker_id == worker_id,
                                                          Job.status == JobStatus.RUNNING]
    with session_scope(engine) as session:
        res = session.execute(update(Job).where(*cond).values(heartbeat_at=utcnow(), **values))
        job = session.get(Job, job_id)
        return res.rowcount == 1, bool(job and job.cancel_requested)


def finish(engine: Engine, job_id: int, worker_id: str | None, status: str, *, error: str | None = None,
           message: str | None = None, lease: Lease | None = None) -> bool:
    """Mark a job done / failed / cancelled, or back to queued (``status='queued'``) to release it.
    With ``lease``, only while it is current; returns whether the row changed."""
    values: dict = {"status": status, "error": error}
    if message is not None:
        values["message"] = message
    if status == JobStatus.QUEUED:
        values.update(worker_id=None, heartbeat_at=None)
    else:
        values["finished_at"] = utcnow()
        if status == JobStatus.DONE:
            values["progress"] = 1.0
    if lease is not None:
        cond = lease.conditions()
    else:
        cond = [Job.id == job_id]
        if worker_id is not None:
            cond.append(Job.worker_id == worker_id)
    with session_scope(engine) as session:
        return session.execute(update(Job).where(*cond).values(**values)).rowcount == 1
