"""Curation for a team: curators' judgments (an append-only log), the state kept from them, queues
with leases, and the consensus rule.

Machine verdicts (``Verdict``) and human judgments (``Curation``) are separate rows; nothing here
ever updates or deletes either. The **log is the truth**; the current state of every claim and trace
(``claim_state``, ``trace_state``) is recomputed from the trace's log in the same transaction as each
judgment, by the same function ``vcr db rebuild-state`` uses, so the two cannot drift.

* Each curator has their own latest judgment per claim and per trace (``opinions``).
* The **consensus rule** (setting ``CONSENSUS``): ``one`` — the latest judgment decides; ``two_agree``
  — the two curators who judged most recently must agree: one opinion waits for a second
  (``needs_second``), two that differ are a ``conflict`` (a third curator, or a changed mind, settles it).
* A claim's **effective verdict** is the curators' verdict under the rule, else the machine's.
* A trace's **status**: ``uncurated``, ``approve``, ``reject``, ``needs_work``, ``needs_second``,
  ``conflict`` (trace judgments or any claim in conflict) or ``needs_review`` (a claim was judged after
  an approval — Reactome's rule; the trace's judgments start over from there).
* A judgment may carry the **version** of the state the curator saw (the id of the newest log row);
  when another curator judged the same claim (or, for a trace judgment, anything in the trace) since,
  it is refused with "X judged this meanwhile" (``StaleJudgment``, carrying the new state).
* **Queues** per curator (``mine``: not judged yet; ``second``: needs a second opinion; ``conflicts``)
  hand out traces under a **lease** (``LEASE_S``), so two curators are never handed the same trace at once.
"""
from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from .. import __version__ as APP_VERSION
from ..store import (
    Batch,
    Claim,
    ClaimStateRow,
    Curation,
    Record,
    Run,
    Trace,
    TraceLease,
    TraceStateRow,
    TraceVerdict,
    Verdict,
    write_lock,
)
from ..store.models import utcnow
from ..store.traces import trace_in_batch
from ..verify.base import VERDICTS
from ..verify.policy import aggregate_claim_verdict

# INDRA's curation tags plus the ones action graphs need.
REASON_TAGS = ("correct", "entity_boundaries", "grounding", "no_relation", "wrong_relation", "act_vs_amt", "polarity",
               "negative_result", "hypothesis", "agent_conditions", "mod_site", "wrong_direction", "context_mismatch",
               "citation_does_not_support", "fabricated_entity", "not_measurable", "other")
TRACE_JUDGMENTS = ("approve", "reject", "needs_work")
CLAIM_JUDGMENTS = ("accept", "override")
CONSENSUS_RULES = ("one", "two_agree")
QUEUES = ("mine", "second", "conflicts")
TRACE_STATUSES = ("uncurated", "approve", "reject", "needs_work", "needs_review", "needs_second", "conflict")


class CurationError(ValueError):
    """A judgment that cannot be stored as given; the message says what is missing."""


class StaleJudgment(CurationError):
    """The curator judged a state that another curator changed meanwhile; ``current`` is the new state."""

    def __init__(self, message: str, others: list[str], current: dict[str, Any]):
        super().__init__(message)
        self.others = others
        self.current = current


def _require_curator(curator: str | None) -> str:
    name = (curator or "").strip()
    if not name:
        raise CurationError("enter your curator name before judging")
    return name


def consensus_rule(rule: str | None = None) -> str:
    """The consensus rule in force (``CONSENSUS``), checked."""
    if rule is None:
        from ..kernel.settings import get_settings
        rule = get_settings().consensus
    rule = (rule or "one").strip().lower()
    if rule not in CONSENSUS_RULES:
        raise CurationError(f"CONSENSUS is {rule!r}; use one of {', '.join(CONSENSUS_RULES)}")
    return rule


# --- the state, computed from the log (one pure function for incremental updates and rebuilds) ---

def _consensus(opinions: dict[str, dict], value_key: str, rule: str) -> tuple[str, str | None]:
    """(status, value) from each curator's latest opinion (dicts with 'id' and ``value_key``)."""
    if not opinions:
        return "uncurated", None
    ordered = sorted(opinions.values(), key=lambda o: o["id"])
    if rule == "one":
        return "decided", ordered[-1][value_key]
    if len(ordered) == 1:
        return "needs_second", ordered[-1][value_key]
    a, b = ordered[-2][value_key], ordered[-1][value_key]
    return ("decided", a) if a == b else ("conflict", None)


def compute_state(trace_id: int, rows: Iterable[Any], rule: str) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The trace's state row and its judged claims' state rows (as dicts) from the trace's log rows.

    ``rows``: Curation rows (objects or mappings) of one trace, any order."""
    rows = sorted((r if isinstance(r, dict) else _row_dict(r) for r in rows), key=lambda r: r["id"])
    claims: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r["target"] != "claim" or r["claim_id"] is None:
            continue
        c = claims.setdefault(r["claim_id"], {"claim_id": r["claim_id"], "trace_id": trace_id, "opinions": {}})
        c["opinions"][r["curator"]] = {"id": r["id"], "judgment": r["judgment"], "verdict": r["verdict"], "tag": r["tag"],
                                       "note": r["note"]}
        c.update(version=r["id"], last_curator=r["curator"], last_judgment=r["judgment"])
    for c in claims.values():
        status, verdict = _consensus(c["opinions"], "verdict", rule)
        c.update(status=status, verdict=verdict)
    trace_rows = [r for r in rows if r["target"] == "trace"]
    reset = max((i for i, r in enumerate(trace_rows) if r["judgment"] == "needs_review"), default=-1)
    opinions = {r["curator"]: {"id": r["id"], "judgment": r["judgment"], "note": r["note"]} for r in trace_rows[reset + 1:]}
    if trace_rows and reset == len(trace_rows) - 1:
        status = "needs_review"
    else:
        kind, judgment = _consensus(opinions, "judgment", rule)
        status = {"uncurated": "uncurated", "needs_second": "needs_second", "conflict": "conflict"}.get(kind, judgment)
        if status != "conflict" and any(c["status"] == "conflict" for c in claims.values()):
            status = "conflict"
    trace = {"trace_id": trace_id, "version": rows[-1]["id"] if rows else 0, "status": status, "opinions": opinions,
             "curators": sorted({r["curator"] for r in rows}), "n_judgments": len(rows),
             "last_curator": rows[-1]["curator"] if rows else None}
    return trace, claims


_ROW_KEYS = ("id", "target", "trace_id", "claim_id", "curator", "judgment", "verdict", "tag", "note")


def _row_dict(r: Any) -> dict[str, Any]:
    return {k: getattr(r, k) for k in _ROW_KEYS}


# Statements of the judgment transaction, built once: a judgment holds the writers' lock while it runs,
# so it does no ORM work and no statement building there (every other writer waits meanwhile).
_CT, _TS, _CS, _TL = Curation.__table__, TraceStateRow.__table__, ClaimStateRow.__table__, TraceLease.__table__
_LOG = select(*[_CT.c[k] for k in _ROW_KEYS]).where(_CT.c.trace_id == bindparam("tid")).order_by(_CT.c.id)
_TRACE_UPDATE = _TS.update().where(_TS.c.trace_id == bindparam("tid"))
_TRACE_LOCK = select(_TS.c.trace_id).where(_TS.c.trace_id == bindparam("tid")).with_for_update()
_RELEASE = _TL.delete().where(_TL.c.trace_id == bindparam("tid"), _TL.c.curator == bindparam("who"))
_STATE_COLUMNS = [c.name for c in _CS.columns if c.name != "claim_id"]
_UPSERTS: dict[str, tuple[Any, Any]] = {}


def _dialect_insert(s_or_conn, table):
    name = s_or_conn.get_bind().dialect.name if isinstance(s_or_conn, Session) else s_or_conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _upserts(conn: Connection) -> tuple[Any, Any]:
    """(insert the trace's state row unless present, upsert a claim's state row) for this dialect."""
    name = conn.dialect.name
    if name not in _UPSERTS:
        ins = _dialect_insert(conn, _CS)
        _UPSERTS[name] = (_dialect_insert(conn, _TS).on_conflict_do_nothing(index_elements=["trace_id"]),
                          ins.on_conflict_do_update(index_elements=["claim_id"],
                                                    set_={k: ins.excluded[k] for k in _STATE_COLUMNS}))
    return _UPSERTS[name]


@contextmanager
def _trace_transaction(engine: Engine, trace_id: int) -> Iterator[tuple[Connection, list[dict[str, Any]]]]:
    """One short write transaction on a trace's judgments, yielding the connection and the trace's log.

    Its first statement is a write (the trace's state row, created if missing): SQLite takes its write
    lock there, so the staleness check and the new row are atomic; elsewhere the row is locked."""
    with write_lock(engine), engine.begin() as conn:
        ensure_trace, _ = _upserts(conn)
        conn.execute(ensure_trace, {"trace_id": trace_id, "version": 0, "status": "uncurated", "n_judgments": 0})
        if conn.dialect.name != "sqlite":  # SQLite already holds its (database-wide) write lock here
            conn.execute(_TRACE_LOCK, {"tid": trace_id})
        yield conn, [dict(zip(_ROW_KEYS, r)) for r in conn.execute(_LOG, {"tid": trace_id})]


def _append(conn: Connection, log: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """Append one judgment to the log (and to ``log``, the trace's rows read in this transaction); its
    column values (a ``Curation`` object is built after the lock is released: that costs 0.1 ms)."""
    values = {"claim_id": None, "claim_hash": None, "verdict": None, "tag": None, "note": None, "claim_snapshot": None,
              "app_version": APP_VERSION, "created_at": utcnow(), **values}
    values["id"] = conn.execute(_CT.insert(), values).inserted_primary_key[0]
    log.append({k: values[k] for k in _ROW_KEYS})
    return values


def _store_state(conn: Connection, trace: dict[str, Any], claims: dict[int, dict[str, Any]]) -> None:
    """Update the trace's state row and upsert the given claims' state rows."""
    conn.execute(_TRACE_UPDATE, {"tid": trace["trace_id"], **{k: v for k, v in trace.items() if k != "trace_id"}})
    if claims:
        conn.execute(_upserts(conn)[1], list(claims.values()))


def _check_fresh(log: list[dict[str, Any]], curator: str, seen_version: int | None, claim_id: int | None,
                 current: Callable[[], dict[str, Any]]) -> None:
    """Refuse a judgment when another curator judged the claim (or, for a trace, anything in it) after
    the state the curator saw."""
    if seen_version is None:
        return
    others = sorted({r["curator"] for r in log if r["id"] > seen_version and r["curator"] != curator
                     and (claim_id is None or r["claim_id"] == claim_id)})
    if others:
        raise StaleJudgment(f"{' and '.join(others)} judged this meanwhile: look at the new state and judge again",
                            others, current())


_CLAIM_COLUMNS = ("id", "trace_id", "node_id", "action", "args", "text", "hash")
_CLAIM = select(*[Claim.__table__.c[k] for k in _CLAIM_COLUMNS]).where(Claim.__table__.c.id == bindparam("cid"))
_CLAIM_VERDICTS = select(Verdict.__table__.c.verifier, Verdict.__table__.c.verdict, Verdict.__table__.c.score).where(
    Verdict.__table__.c.claim_id == bindparam("cid"))


def judge_claim(engine: Engine, claim_id: int, curator: str, judgment: str, *, verdict: str | None = None,
                tag: str | None = None, note: str | None = None, seen_version: int | None = None,
                rule: str | None = None) -> Curation:
    """Accept a claim's machine verdict, or override it with a verdict, a reason tag and a note.

    ``seen_version``: the claim state's ``version`` the curator saw; a judgment by another curator on
    this claim since then refuses this one (``StaleJudgment``)."""
    curator = _require_curator(curator)
    rule = consensus_rule(rule)
    if judgment not in CLAIM_JUDGMENTS:
        raise CurationError(f"a claim judgment is one of {', '.join(CLAIM_JUDGMENTS)}")
    if judgment == "override":
        if verdict not in VERDICTS:
            raise CurationError(f"an override needs a verdict: {', '.join(VERDICTS)}")
        if tag not in REASON_TAGS:
            raise CurationError("an override needs a reason tag from the list")
        if tag == "other" and not (note or "").strip():
            raise CurationError("the tag 'other' needs a note saying why")
    elif tag is not None and tag not in REASON_TAGS:
        raise CurationError("unknown reason tag")
    with engine.connect() as conn:  # reads first, outside the write lock
        row = conn.execute(_CLAIM, {"cid": claim_id}).first()
        if row is None:
            raise CurationError(f"there is no claim {claim_id}")
        claim = dict(zip(_CLAIM_COLUMNS, row))
        machine, score = aggregate_claim_verdict([dict(r._mapping) for r in conn.execute(_CLAIM_VERDICTS, {"cid": claim_id})])
    trace_id = claim["trace_id"]
    with _trace_transaction(engine, trace_id) as (conn, log):
        _check_fresh(log, curator, seen_version, claim_id, lambda: compute_state(trace_id, log, rule)[1].get(claim_id, {}))
        approved = compute_state(trace_id, log, rule)[0]["status"] == "approve"
        row = _append(conn, log, {"target": "claim", "trace_id": trace_id, "claim_id": claim_id, "claim_hash": claim["hash"],
                                  "curator": curator, "judgment": judgment,
                                  "verdict": verdict if judgment == "override" else machine, "tag": tag, "note": note or None,
                                  "claim_snapshot": {"node_id": claim["node_id"], "action": claim["action"],
                                                     "args": claim["args"], "text": claim["text"],
                                                     "machine_verdict": machine, "machine_score": score}})
        if approved:  # Reactome's rule: an edit after approval sends the item back to review.
            _append(conn, log, {"target": "trace", "trace_id": trace_id, "curator": curator, "judgment": "needs_review",
                                "note": f"claim {claim['node_id']} judged after approval"})
        trace_state, claim_rows = compute_state(trace_id, log, rule)
        _store_state(conn, trace_state, {claim_id: claim_rows[claim_id]})
    return Curation(**row)


def judge_trace(engine: Engine, trace_id: int, curator: str, judgment: str, note: str | None = None, *,
                seen_version: int | None = None, rule: str | None = None) -> Curation:
    """Approve, reject or mark a trace as needing work (and release the curator's lease on it).

    ``seen_version``: the trace state's ``version`` the curator saw; a judgment by another curator on
    the trace or any of its claims since then refuses this one (``StaleJudgment``)."""
    curator = _require_curator(curator)
    rule = consensus_rule(rule)
    if judgment not in TRACE_JUDGMENTS:
        raise CurationError(f"a trace judgment is one of {', '.join(TRACE_JUDGMENTS)}")
    with engine.connect() as conn:
        if conn.execute(select(Trace.__table__.c.id).where(Trace.__table__.c.id == trace_id)).first() is None:
            raise CurationError(f"there is no trace {trace_id}")
    with _trace_transaction(engine, trace_id) as (conn, log):
        _check_fresh(log, curator, seen_version, None, lambda: compute_state(trace_id, log, rule)[0])
        row = _append(conn, log, {"target": "trace", "trace_id": trace_id, "curator": curator, "judgment": judgment,
                                  "note": note or None})
        _store_state(conn, compute_state(trace_id, log, rule)[0], {})
        conn.execute(_RELEASE, {"tid": trace_id, "who": curator})
    return Curation(**row)


def rebuild_state_on_connection(conn: Connection, rule: str | None = None) -> dict[str, int]:
    """Recompute every claim and trace state row from the Curation log (on an open connection)."""
    rule = consensus_rule(rule)
    ct, tt, cs = Curation.__table__, TraceStateRow.__table__, ClaimStateRow.__table__
    conn.execute(cs.delete())
    conn.execute(tt.delete())
    n_traces = n_claims = 0
    # yield_per on this statement only: Connection.execution_options() would change the whole connection,
    # and on PostgreSQL every later statement (alembic's own UPDATE included) would become a server cursor.
    result = conn.execute(select(*[ct.c[k] for k in _ROW_KEYS]).order_by(ct.c.trace_id, ct.c.id),
                          execution_options={"yield_per": 5000})
    current, rows = None, []

    def flush(tid, rows):
        nonlocal n_traces, n_claims
        trace, claims = compute_state(tid, rows, rule)
        conn.execute(tt.insert(), [trace])
        if claims:
            conn.execute(cs.insert(), list(claims.values()))
        n_traces += 1
        n_claims += len(claims)

    for r in result:
        d = dict(zip(_ROW_KEYS, r))
        if d["trace_id"] != current and rows:
            flush(current, rows)
            rows = []
        current = d["trace_id"]
        rows.append(d)
    if rows:
        flush(current, rows)
    return {"traces": n_traces, "claims": n_claims}


def rebuild_state(engine: Engine, rule: str | None = None) -> dict[str, int]:
    """``vcr db rebuild-state``: recompute the kept state from the log, in one transaction."""
    with engine.begin() as conn:
        return rebuild_state_on_connection(conn, rule)


def state_snapshot(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every trace and claim state row as plain dicts, sorted (to compare kept and rebuilt state)."""
    with engine.connect() as conn:
        traces = [dict(r._mapping) for r in conn.execute(select(TraceStateRow.__table__).order_by(TraceStateRow.trace_id))]
        claims = [dict(r._mapping) for r in conn.execute(select(ClaimStateRow.__table__).order_by(ClaimStateRow.claim_id))]
    return traces, claims


def trace_state(engine: Engine, trace_id: int) -> dict[str, Any]:
    """The trace's kept state: status, version, opinions (curator -> latest trace judgment), curators."""
    with Session(engine) as s:
        row = s.get(TraceStateRow, trace_id)
    if row is None:
        return {"trace_id": trace_id, "version": 0, "status": "uncurated", "opinions": {}, "curators": [], "n_judgments": 0,
                "last_curator": None}
    return {"trace_id": trace_id, "version": row.version, "status": row.status, "opinions": row.opinions or {},
            "curators": row.curators or [], "n_judgments": row.n_judgments, "last_curator": row.last_curator}


def _trace_status(s: Session, trace_id: int) -> str:
    row = s.get(TraceStateRow, trace_id)
    return row.status if row else "uncurated"


def trace_status(engine: Engine, trace_id: int) -> str:
    """uncurated / approve / reject / needs_work / needs_review / needs_second / conflict (from the kept state)."""
    with Session(engine) as s:
        return _trace_status(s, trace_id)


# --- queues and leases ---

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
        cond = and_(status == "needs_second", Trace.id.not_in(judged_by_me))
    else:
        cond = status == "conflict"
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


def acquire_lease(engine: Engine, trace_id: int, curator: str, *, now: float | None = None,
                  lease_s: float | None = None) -> bool:
    """Take (or renew) the lease on a trace; False when another curator holds a live one."""
    curator = _require_curator(curator)
    now = _now(now)
    expires = now + _lease_s(lease_s)
    with write_lock(engine), engine.begin() as conn:
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


def release_lease(engine: Engine, trace_id: int, curator: str) -> None:
    """Give a trace back to the queues."""
    with write_lock(engine), engine.begin() as conn:
        conn.execute(_RELEASE, {"tid": trace_id, "who": curator})


def lease_holder(engine: Engine, trace_id: int, *, now: float | None = None) -> str | None:
    """Who holds a live lease on the trace, if anyone."""
    with engine.connect() as conn:
        row = conn.execute(_LEASE_HOLDER, {"tid": trace_id}).first()
    return row[0] if row is not None and row[1] > _now(now) else None


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


def conflict_view(engine: Engine, trace_id: int) -> dict[str, Any]:
    """Both (all) curators' judgments side by side with the machine's: the trace-level opinions and,
    per claim in conflict or waiting for a second opinion, each curator's verdict and the machine's."""
    state = trace_state(engine, trace_id)
    rows = []
    for st in claim_states(engine, trace_id):
        if st.state_status in ("conflict", "needs_second") or len(st.opinions) > 1:
            rows.append({"node_id": st.claim.node_id, "claim": st.claim.text, "machine": st.machine,
                         "status": st.state_status,
                         **{f"{who}": f"{o.get('verdict')} ({o.get('judgment')}{', ' + o['tag'] if o.get('tag') else ''})"
                            for who, o in sorted(st.opinions.items())}})
    return {"status": state["status"], "trace_opinions": state["opinions"], "claims": rows}


@dataclass
class ClaimState:
    """A claim with its machine verdicts, curations, kept state and the effective verdict."""

    claim: Claim
    verdicts: list[Verdict] = field(default_factory=list)
    curations: list[Curation] = field(default_factory=list)
    machine: str | None = None
    machine_score: float = 0.0
    effective: str | None = None
    judged_by: str | None = None
    version: int = 0
    state_status: str = "uncurated"
    opinions: dict[str, dict] = field(default_factory=dict)

    @property
    def conflicting(self) -> bool:
        """Curators disagree with each other, or one overrode the machine."""
        opinions = {o.get("verdict") for o in self.opinions.values() if o.get("verdict")}
        return self.state_status == "conflict" or len(opinions) > 1 or any(
            o.get("judgment") == "override" and o.get("verdict") != self.machine for o in self.opinions.values())

    def who(self) -> str:
        """'accepted by ana · overridden by ben → contradicted' — who judged the claim and how."""
        parts = []
        for name, o in sorted(self.opinions.items(), key=lambda kv: kv[1].get("id", 0)):
            parts.append(f"accepted by {name}" if o.get("judgment") == "accept"
                         else f"overridden by {name} → {o.get('verdict')}" + (f" ({o['tag']})" if o.get("tag") else ""))
        return " · ".join(parts)


def claim_states(engine: Engine, trace_id: int) -> list[ClaimState]:
    """Every claim of a trace with its verdicts, curations and effective verdict (from the kept state)."""
    with Session(engine) as s:
        claims = s.exec(select(Claim).where(Claim.trace_id == trace_id).order_by(Claim.position)).all()
        verdicts = s.exec(select(Verdict).where(Verdict.trace_id == trace_id, Verdict.claim_id.is_not(None))).all()
        curations = s.exec(select(Curation).where(Curation.trace_id == trace_id, Curation.target == "claim")).all()
        kept = {r.claim_id: r for r in s.exec(select(ClaimStateRow).where(ClaimStateRow.trace_id == trace_id)).all()}
    by_claim: dict[int, list] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim_id, []).append(v)
    cur_by_claim: dict[int, list] = {}
    for k in sorted(curations, key=lambda k: k.id):
        cur_by_claim.setdefault(k.claim_id, []).append(k)
    states = []
    for c in claims:
        st = ClaimState(claim=c, verdicts=by_claim.get(c.id, []), curations=cur_by_claim.get(c.id, []))
        st.machine, st.machine_score = aggregate_claim_verdict(st.verdicts)
        row = kept.get(c.id)
        st.effective = (row.verdict if row is not None and row.verdict else None) or st.machine
        if row is not None:
            st.judged_by, st.version, st.state_status, st.opinions = row.last_curator, row.version, row.status, row.opinions or {}
        states.append(st)
    return states


def graph_verdicts(states: list[ClaimState]) -> dict[str, dict[str, Any]]:
    """What the action graph shows of each claim (Review and Compare draw it alike): node id ->
    {"effective": verdict, "lines": one tooltip line per verifier, "curated": judged by a curator}."""
    return {stt.claim.node_id: {"effective": stt.effective, "curated": bool(stt.curations),
                                "lines": [f"{v.verifier}: {v.verdict} ({v.score:.2f}) {v.message or ''}" for v in stt.verdicts]}
            for stt in states}


def history(engine: Engine, trace_id: int) -> list[Curation]:
    """Every judgment on a trace and its claims, oldest first."""
    with Session(engine) as s:
        return list(s.exec(select(Curation).where(Curation.trace_id == trace_id).order_by(Curation.id)).all())


@dataclass
class QueueFilters:
    """Filters of the review queue; None means any."""

    batch_id: int | None = None
    run_id: int | None = None
    model: str | None = None
    trace_verdict: str | None = None  # pass / fail / insufficient / none
    verifier: str | None = None       # traces with verdicts from this verifier
    status: str | None = None         # uncurated / approve / reject / needs_work / needs_review
    curator: str | None = None        # traces this curator judged


def review_queue(engine: Engine, filters: QueueFilters | None = None, *, page: int = 0, page_size: int = 25) -> tuple[list[dict[str, Any]], int]:
    """One page of the queue (uncurated first, then conflicting, then the rest) and the total count.

    A page past the end (the filters changed while on a later page) gives the last page's rows."""
    f = filters or QueueFilters()
    n_cur = (select(Curation.trace_id.label("tid"), func.count(Curation.id).label("n"),
                    func.sum(case((Curation.judgment == "override", 1), else_=0)).label("overrides"))
             .group_by(Curation.trace_id).subquery())
    last_tv = select(TraceVerdict.trace_id.label("tid"), func.max(TraceVerdict.id).label("vid")).group_by(TraceVerdict.trace_id).subquery()
    ts = TraceStateRow.__table__
    tv = TraceVerdict.__table__.alias("tv")
    status_expr = func.coalesce(ts.c.status, "uncurated")
    bucket = case((func.coalesce(n_cur.c.n, 0) == 0, 0), (status_expr == "conflict", 1), (func.coalesce(n_cur.c.overrides, 0) > 0, 1),
                  else_=2)
    q = (select(Trace.id, Trace.status, Trace.model, Trace.n_claims, Trace.run_id, Record.batch_id, Record.label,
                Record.index, status_expr.label("curation"), tv.c.verdict.label("trace_verdict"),
                func.coalesce(n_cur.c.n, 0).label("n_curations"), bucket.label("bucket"))
         .join(Record, Record.id == Trace.record_id)
         .outerjoin(n_cur, n_cur.c.tid == Trace.id)
         .outerjoin(ts, ts.c.trace_id == Trace.id)
         .outerjoin(last_tv, last_tv.c.tid == Trace.id)
         .outerjoin(tv, tv.c.id == last_tv.c.vid))
    if f.batch_id is not None:
        q = q.where(trace_in_batch(f.batch_id))
    if f.run_id is not None:
        q = q.where(Trace.run_id == f.run_id)
    if f.model:
        q = q.where(Trace.model == f.model)
    if f.trace_verdict == "none":
        q = q.where(tv.c.verdict.is_(None))
    elif f.trace_verdict:
        q = q.where(tv.c.verdict == f.trace_verdict)
    if f.status:
        q = q.where(status_expr == f.status)
    if f.verifier:
        q = q.where(Trace.id.in_(select(Verdict.trace_id).where(Verdict.verifier == f.verifier)))
    if f.curator:
        q = q.where(Trace.id.in_(select(Curation.trace_id).where(Curation.curator == f.curator)))
    with Session(engine) as s:
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        page = max(0, min(page, (total - 1) // page_size if total else 0))
        rows = s.exec(q.order_by(bucket, Trace.id).offset(page * page_size).limit(page_size)).all()
    keys = ("trace_id", "status", "model", "claims", "run_id", "batch_id", "record", "index", "curation", "trace_verdict",
            "curations", "bucket")
    out = []
    for r in rows:
        d = dict(zip(keys, r))
        d["queue"] = ("uncurated", "conflicting", "curated")[d.pop("bucket")]
        out.append(d)
    return out, total


def progress_by_curator(engine: Engine) -> list[dict[str, Any]]:
    """Per curator: claim and trace judgments made, and traces whose status they helped decide."""
    with Session(engine) as s:
        rows = s.exec(select(Curation.curator, Curation.target, func.count(Curation.id)).group_by(Curation.curator, Curation.target)).all()
        decided = s.exec(select(TraceStateRow.curators).where(TraceStateRow.status.in_(("approve", "reject", "needs_work")))).all()
    out: dict[str, dict[str, Any]] = {}
    for curator, target, n in rows:
        out.setdefault(curator, {"curator": curator, "claim judgments": 0, "trace judgments": 0, "traces decided": 0})
        out[curator]["claim judgments" if target == "claim" else "trace judgments"] += n
    for names in decided:
        for name in names or []:
            if name in out:
                out[name]["traces decided"] += 1
    return list(out.values())


def trace_bundle(engine: Engine, trace_id: int) -> dict[str, Any] | None:
    """A trace with its record, run, batch and latest trace verdict, for the detail view."""
    with Session(engine) as s:
        trace = s.get(Trace, trace_id)
        if trace is None:
            return None
        record = s.get(Record, trace.record_id)
        run = s.get(Run, trace.run_id)
        batch = s.get(Batch, record.batch_id) if record else None
        tv = s.exec(select(TraceVerdict).where(TraceVerdict.trace_id == trace_id).order_by(TraceVerdict.id.desc())).first()
        structural = s.exec(select(Verdict).where(Verdict.trace_id == trace_id, Verdict.claim_id.is_(None))).all()
        return {"trace": trace, "record": record, "run": run, "batch": batch, "trace_verdict": tv,
                "trace_findings": structural, "status": _trace_status(s, trace_id)}


def run_record_rows(engine: Engine, run_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Per record of a run: its status (pending until a trace exists), tokens, cost, time and errors."""
    with Session(engine) as s:
        run = s.get(Run, run_id)
        if run is None:
            return []
        q = select(Record.id, Record.index, Record.label)
        if run.record_ids:
            q = q.where(Record.id.in_(run.record_ids))
        elif run.batch_id is not None and run.mode != "import":
            q = q.where(Record.batch_id == run.batch_id)
        else:  # imported runs: the records that have a trace (some may be another file's, see importers)
            q = q.where(Record.id.in_(select(Trace.record_id).where(Trace.run_id == run_id)))
        records = s.exec(q.order_by(Record.position).limit(limit)).all()
        traces = {t.record_id: t for t in s.exec(select(Trace).where(Trace.run_id == run_id,
                                                                     Trace.record_id.in_([r[0] for r in records]))).all()}
    rows = []
    for rid, index, label in records:
        t = traces.get(rid)
        errors = (t.errors or []) if t else []
        rows.append({"record": f"{index}: {label}", "status": t.status if t else "pending", "trace": t.id if t else None,
                     "claims": t.n_claims if t else None, "tokens": (t.prompt_tokens + t.completion_tokens) if t else None,
                     "cost_usd": round(t.cost_usd, 5) if t else None, "seconds": round(t.latency_s, 1) if t else None,
                     "errors": "; ".join(str(e)[:200] for e in errors[:3])})
    return rows


# --- agreement ---

def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None without items, 1.0 when both
    raters always give the same single label (perfect agreement, no chance term to correct)."""
    n = len(pairs)
    if not n:
        return None
    po = sum(a == b for a, b in pairs) / n
    labels = {x for p in pairs for x in p}
    pe = sum((sum(a == k for a, _ in pairs) / n) * (sum(b == k for _, b in pairs) / n) for k in labels)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def _claim_opinions(engine: Engine) -> list[tuple[int, str, dict[str, dict]]]:
    """(claim id, primitive, opinions) for every judged claim, from the kept state."""
    with Session(engine) as s:
        return [(cid, action, ops or {}) for cid, action, ops in s.exec(
            select(ClaimStateRow.claim_id, Claim.action, ClaimStateRow.opinions).join(Claim, Claim.id == ClaimStateRow.claim_id)).all()]


def inter_curator_agreement(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Cohen's kappa on claim verdicts per pair of curators (over the claims both judged), overall and
    per primitive: ``{"pairs": [...], "by_primitive": [...]}``."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    by_prim: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for _cid, action, ops in _claim_opinions(engine):
        names = sorted(ops)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                pair = (ops[a].get("verdict") or "none", ops[b].get("verdict") or "none")
                pairs.setdefault((a, b), []).append(pair)
                by_prim.setdefault((a, b, action), []).append(pair)

    def row(items):
        k = cohen_kappa(items)
        return {"claims": len(items), "agreement": round(sum(x == y for x, y in items) / len(items), 3),
                "kappa": None if k is None else round(k, 3)}

    return {"pairs": [{"curator_a": a, "curator_b": b, **row(v)} for (a, b), v in sorted(pairs.items())],
            "by_primitive": [{"curator_a": a, "curator_b": b, "primitive": p, **row(v)} for (a, b, p), v in sorted(by_prim.items())]}


def curator_vs_machine(engine: Engine) -> list[dict[str, Any]]:
    """Per verifier: how often curators' verdicts agree with the verifier's on the claims they judged,
    and how often they overrule it (the verifiers curators overrule most are the ones to improve).

    A verifier that could not run or could not decide (its verdict 'unverifiable': source unavailable,
    offline, nothing to check against) gave no verdict to overrule: those judgments are counted apart as
    ``could_not_run``, never as ``overruled``, and the rates are over the verdicts it did give."""
    ops = {cid: o for cid, _a, o in _claim_opinions(engine) if o}
    if not ops:
        return []
    stats: dict[str, dict[str, int]] = {}
    with Session(engine) as s:
        ids = list(ops)
        for i in range(0, len(ids), 500):
            for cid, verifier, verdict in s.exec(select(Verdict.claim_id, Verdict.verifier, Verdict.verdict)
                                                 .where(Verdict.claim_id.in_(ids[i:i + 500]))).all():
                st = stats.setdefault(verifier, {"judgments": 0, "agree": 0, "overruled": 0, "could_not_run": 0})
                for o in ops[cid].values():
                    if verdict == "unverifiable":
                        st["could_not_run"] += 1
                        continue
                    st["judgments"] += 1
                    if o.get("verdict") == verdict:
                        st["agree"] += 1
                    elif o.get("judgment") == "override":
                        st["overruled"] += 1
    return sorted(({"verifier": v, **d, "agreement": round(d["agree"] / d["judgments"], 3) if d["judgments"] else None,
                    "overrule_rate": round(d["overruled"] / d["judgments"], 3) if d["judgments"] else None}
                   for v, d in stats.items()), key=lambda r: -(r["overrule_rate"] or 0))
