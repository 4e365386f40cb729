"""Curation queues with trace leases: who reviews what next (mine, second opinions, conflicts), and the
short leases that keep two curators off one trace."""
from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from ..kernel.statuses import CurationState
from ..store import (
    Curation,
    Trace,
    TraceLease,
    TraceStateRow,
    locked_transaction,
)
from .consensus import CONSENSUS_RULES, CurationError, _consensus, consensus_rule  # noqa: F401 - re-exported

# INDRA's curation tags plus the ones action graphs need.
from .log import _RELEASE, _TL, QUEUES, _dialect_insert, _refused_while_restoring, _require_curator


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _lease_s(lease_s: float | None) -> float:
    if lease_s is not None:
        return lease_s
    from ..kernel.settings import get_settings
    return get_settings().lease_s


@functools.cache
def _queue_query(queue: str):
    """Trace ids in ``queue`` for the curator ``:me`` that nobody else holds a live lease on at ``:now``;
    the curator's own leases first. Built once per queue (bound parameters): building it cost more than
    running it, on every call of every curator."""
    if queue not in QUEUES:
        raise CurationError(f"a queue is one of {', '.join(QUEUES)}")
    me, now = bindparam("me"), bindparam("now")
    ts = TraceStateRow.__table__
    status = func.coalesce(ts.c.status, "uncurated")
    judged_by_me = select(Curation.trace_id).where(Curation.curator == me, Curation.target == "trace")
    if queue == "mine":
        cond = and_(status.in_(("uncurated", "needs_review")))
    elif queue == "second":
        cond = and_(status == CurationState.NEEDS_SECOND, Trace.id.not_in(judged_by_me))
    else:
        cond = status == CurationState.CONFLICT
    lease = TraceLease.__table__
    held_by_other = select(lease.c.trace_id).where(lease.c.expires_at > now, lease.c.curator != me)
    mine = select(lease.c.trace_id).where(lease.c.expires_at > now, lease.c.curator == me)
    return (select(Trace.id).outerjoin(ts, ts.c.trace_id == Trace.id)
            .where(cond, Trace.id.not_in(held_by_other))
            .order_by(case((Trace.id.in_(mine), 0), else_=1), Trace.id))


@functools.cache
def _queue_statements(queue: str) -> tuple[Any, Any]:
    """(the queue's first 16 candidates, 'is :tid still in the queue'), built once."""
    q = _queue_query(queue)
    return q.limit(16), q.where(Trace.id == bindparam("tid")).limit(1)


_LEASE_HOLDER = select(_TL.c.curator, _TL.c.expires_at).where(_TL.c.trace_id == bindparam("tid"))


@_refused_while_restoring
def acquire_lease(engine: Engine, trace_id: int, curator: str, *, now: float | None = None,
                  lease_s: float | None = None) -> bool:
    """Take (or renew) the lease on a trace; False when another curator holds a live one."""
    curator = _require_curator(curator)
    now = _now(now)
    expires = now + _lease_s(lease_s)
    with locked_transaction(engine) as conn:
        return conn.execute(_lease_upsert(conn), {"trace_id": trace_id, "curator": curator, "expires_at": expires,
                                                  "now": now}).rowcount == 1


_LEASE_UPSERTS: dict[str, Any] = {}


def _lease_upsert(conn: Connection):
    """Insert a lease, or take over one that expired (or is the same curator's), for this dialect."""
    name = conn.dialect.name
    if name not in _LEASE_UPSERTS:
        ins = _dialect_insert(conn, _TL)
        _LEASE_UPSERTS[name] = ins.on_conflict_do_update(
            index_elements=["trace_id"], set_={"curator": ins.excluded.curator, "expires_at": ins.excluded.expires_at},
            where=or_(_TL.c.expires_at <= bindparam("now"), _TL.c.curator == ins.excluded.curator))
    return _LEASE_UPSERTS[name]


@_refused_while_restoring
def release_lease(engine: Engine, trace_id: int, curator: str) -> None:
    """Give a trace back to the queues."""
    curator = _require_curator(curator)
    with locked_transaction(engine) as conn:
        conn.execute(_RELEASE, {"tid": trace_id, "who": curator})


def lease_holder(engine: Engine, trace_id: int, *, now: float | None = None) -> str | None:
    """Who holds a live lease on the trace, if anyone."""
    with engine.connect() as conn:
        row = conn.execute(_LEASE_HOLDER, {"tid": trace_id}).first()
    return row[0] if row is not None and row[1] > _now(now) else None


@_refused_while_restoring
def next_trace(engine: Engine, curator: str, queue: str = "mine", *, now: float | None = None,
               lease_s: float | None = None, skip: Iterable[int] = ()) -> int | None:
    """The next trace of ``curator``'s ``queue``, leased to them (a trace they already hold comes first);
    None when the queue is empty. Two curators calling this at once are never handed the same trace."""
    curator = _require_curator(curator)
    now = _now(now)
    skip = set(skip)
    first16, still_queued = _queue_statements(queue)
    params = {"me": curator, "now": now}
    # Curators start at different places among the first candidates, so they rarely race for one trace.
    offset = int(hashlib.sha1(curator.encode()).hexdigest(), 16)
    for _attempt in range(50):
        with engine.connect() as conn:
            q = first16 if not skip else _queue_query(queue).where(Trace.id.not_in(skip)).limit(16)
            candidates = [r[0] for r in conn.execute(q, params)]
        if not candidates:
            return None
        if lease_holder(engine, candidates[0], now=now) != curator:
            k = (offset + _attempt) % len(candidates)
            candidates = candidates[k:] + candidates[:k]
        for tid in candidates:
            if acquire_lease(engine, tid, curator, now=now, lease_s=lease_s):
                # Still in the queue? Another curator may have judged it between our query and the lease
                # (judging releases the lease in the same transaction as the new status).
                with engine.connect() as conn:
                    if conn.execute(still_queued, {**params, "tid": tid}).first() is not None:
                        return tid
                release_lease(engine, tid, curator)
            skip.add(tid)  # another curator won it meanwhile
    return None


def queue_counts(engine: Engine, curator: str, *, now: float | None = None) -> dict[str, int]:
    """How many traces wait in each of the curator's queues."""
    curator = _require_curator(curator)
    now = _now(now)
    with Session(engine) as s:
        return {q: s.execute(select(func.count()).select_from(_queue_query(q).order_by(None).subquery()),
                             {"me": curator, "now": now}).scalar_one()
                for q in QUEUES}
