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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from .. import __version__ as APP_VERSION
from ..kernel.identity import IdentityError, curator_display, curator_key, key_or_none
from ..kernel.statuses import ClaimJudgment, CurationState, TraceJudgment
from ..store import (
    Claim,
    ClaimStateRow,
    Curation,
    Trace,
    TraceLease,
    TraceStateRow,
    Verdict,
    locked_transaction,
)
from ..store.engine import DatabaseRestoring
from ..store.models import utcnow
from ..verify.base import VERDICTS
from ..verify.policy import aggregate_claim_verdict
from .consensus import CONSENSUS_RULES, CurationError, _consensus, consensus_rule  # noqa: F401 - re-exported

# INDRA's curation tags plus the ones action graphs need.
REASON_TAGS = ("correct", "entity_boundaries", "grounding", "no_relation", "wrong_relation", "act_vs_amt", "polarity",
               "negative_result", "hypothesis", "agent_conditions", "mod_site", "wrong_direction", "context_mismatch",
               "citation_does_not_support", "fabricated_entity", "not_measurable", "other")
TRACE_JUDGMENTS = ("approve", "reject", "needs_work")
CLAIM_JUDGMENTS = ("accept", "override", "revoke")  # revoke: withdraw one's own judgment (and its reuse)
QUEUES = ("mine", "second", "conflicts")
TRACE_STATUSES = ("uncurated", "approve", "reject", "needs_work", "needs_review", "needs_second", "conflict")


class StaleJudgment(CurationError):
    """The curator judged a state that another curator changed meanwhile; ``current`` is the new state."""

    def __init__(self, message: str, others: list[str], current: dict[str, Any]):
        super().__init__(message)
        self.others = others
        self.current = current


def _storable_note(note: str | None) -> str | None:
    """The note, refused (CurationError) when it holds text one supported database cannot store."""
    from ..kernel.textsafe import unstorable_reason

    if note and (why := unstorable_reason(note)):
        raise CurationError(f"the note {why}; remove that character and judge again (nothing was stored)")
    return note


def _require_curator(curator: str | None) -> str:
    """The curator's key (``kernel.identity.curator_key``): one form for every name stored or compared."""
    return _identity(curator)[0]


def _identity(curator: str | None) -> tuple[str, str]:
    """(key, name as typed for display) of a curator; ``CurationError`` with one line when unusable."""
    try:
        return curator_key(curator), curator_display(curator)
    except IdentityError as exc:
        raise CurationError(str(exc)) from None


@functools.lru_cache(maxsize=4096)
def _who(name: str) -> str:
    """The key of a name read from the log (rows stored before names were normalised fold together)."""
    return key_or_none(name) or name


def _refused_while_restoring(fn):
    """A judgment (or lease) asked for while the database is restored is refused with the restore's one-line
    message as a CurationError, which every caller already shows: never stored, never acknowledged."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DatabaseRestoring as exc:
            raise CurationError(str(exc)) from None
    return wrapper


# --- the state, computed from the log (one pure function for incremental updates and rebuilds) ---

def _naive_utc(when: Any) -> datetime:
    """A judgment's time as a naive UTC datetime (SQLite gives naive ones, new rows aware ones)."""
    if when is None:
        return datetime.min
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo else when


def log_order(r: dict[str, Any]) -> tuple[datetime, int]:
    """The order of the judgment log: by the time each judgment was made, then by id. An imported or
    brought-back judgment takes its place by its own time, whatever id it got, so an older archive never
    overrides newer judgments; incremental updates and rebuilds use this one order."""
    return _naive_utc(r.get("created_at")), r["id"]


def _latest(opinions: dict[str, dict], who: str, opinion: dict) -> None:
    opinions.pop(who, None)  # re-inserted: the dict stays in the order of each curator's latest opinion
    opinions[who] = opinion


def disagreement(opinions: dict[str, dict], value_key: str, rule: str | None = None) -> str | None:
    """A line saying how curators disagree, under every rule; None when they agree (or one judged).

    ``one``: "decided by the latest (ben: reject); ana disagreed (approve)"; ``two_agree``: the two
    latest differ: "conflict: ana approve, ben reject" (older differing opinions are named too)."""
    ordered = sorted((o for o in opinions.values() if o.get(value_key)), key=lambda o: o.get("id", 0))
    names = {id(o): k for k, o in opinions.items()}
    if len(ordered) < 2 or len({o[value_key] for o in ordered}) < 2:
        return None
    last = ordered[-1]
    others = [o for o in ordered[:-1] if o[value_key] != last[value_key]]
    if (rule or "one") == "two_agree" and ordered[-2][value_key] != last[value_key]:
        return "conflict: " + ", ".join(f"{names[id(o)]} {o[value_key]}" for o in ordered)
    return (f"decided by the latest ({names[id(last)]}: {last[value_key]}); "
            + ", ".join(f"{names[id(o)]} disagreed ({o[value_key]})" for o in others))


def compute_state(trace_id: int, rows: Iterable[Any], rule: str) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The trace's state row and its judged claims' state rows (as dicts) from the trace's log rows.

    ``rows``: Curation rows (objects or mappings) of one trace, any order; they are taken in
    :func:`log_order`. ``version`` is the largest id (what a curator saw, for the staleness check)."""
    rows = sorted((r if isinstance(r, dict) else _row_dict(r) for r in rows), key=log_order)
    claims: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r["target"] != "claim" or r["claim_id"] is None:
            continue
        c = claims.setdefault(r["claim_id"], {"claim_id": r["claim_id"], "trace_id": trace_id, "opinions": {}, "version": 0})
        c.update(version=max(c["version"], r["id"]), last_curator=_who(r["curator"]), last_judgment=r["judgment"])
        if r["judgment"] == "revoke":  # the curator withdraws their judgment on this claim
            c["opinions"].pop(_who(r["curator"]), None)
            continue
        _latest(c["opinions"], _who(r["curator"]), {"id": r["id"], "judgment": r["judgment"], "verdict": r["verdict"],
                                                    "tag": r["tag"], "note": r["note"]})
    for c in claims.values():
        status, verdict = _consensus(c["opinions"], "verdict", rule)
        c.update(status=status, verdict=verdict)
    trace_rows = [r for r in rows if r["target"] == "trace"]
    reset = max((i for i, r in enumerate(trace_rows) if r["judgment"] == TraceJudgment.NEEDS_REVIEW), default=-1)
    opinions: dict[str, dict] = {}
    for r in trace_rows[reset + 1:]:
        _latest(opinions, _who(r["curator"]), {"id": r["id"], "judgment": r["judgment"], "note": r["note"]})
    if trace_rows and reset == len(trace_rows) - 1:
        status = "needs_review"
    else:
        kind, judgment = _consensus(opinions, "judgment", rule)
        status = {"uncurated": "uncurated", "needs_second": "needs_second", "conflict": "conflict"}.get(kind, judgment)
        if status != CurationState.CONFLICT and any(c["status"] == CurationState.CONFLICT for c in claims.values()):
            status = "conflict"
    trace = {"trace_id": trace_id, "version": max((r["id"] for r in rows), default=0), "status": status,
             "opinions": opinions, "curators": sorted({_who(r["curator"]) for r in rows}), "n_judgments": len(rows),
             "last_curator": _who(rows[-1]["curator"]) if rows else None}
    return trace, claims


_ROW_KEYS = ("id", "target", "trace_id", "claim_id", "curator", "judgment", "verdict", "tag", "note", "created_at")


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
    with locked_transaction(engine) as conn:
        ensure_trace, _ = _upserts(conn)
        conn.execute(ensure_trace, {"trace_id": trace_id, "version": 0, "status": "uncurated", "n_judgments": 0})
        if conn.dialect.name != "sqlite":  # SQLite already holds its (database-wide) write lock here
            conn.execute(_TRACE_LOCK, {"tid": trace_id})
        yield conn, [dict(zip(_ROW_KEYS, r)) for r in conn.execute(_LOG, {"tid": trace_id})]


def _append(conn: Connection, log: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """Append one judgment to the log (and to ``log``, the trace's rows read in this transaction); its
    column values (a ``Curation`` object is built after the lock is released: that costs 0.1 ms)."""
    values = {"claim_id": None, "claim_hash": None, "curator_display": None, "verdict": None, "tag": None, "note": None, "claim_snapshot": None,
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
    others = sorted({_who(r["curator"]) for r in log if r["id"] > seen_version and _who(r["curator"]) != curator
                     and (claim_id is None or r["claim_id"] == claim_id)})
    if others:
        raise StaleJudgment(f"{' and '.join(others)} judged this meanwhile: look at the new state and judge again",
                            others, current())


_CLAIM_COLUMNS = ("id", "trace_id", "node_id", "action", "args", "text", "hash", "core")
_CLAIM = select(*[Claim.__table__.c[k] for k in _CLAIM_COLUMNS]).where(Claim.__table__.c.id == bindparam("cid"))
_CLAIM_VERDICTS = select(Verdict.__table__.c.id, Verdict.__table__.c.verifier, Verdict.__table__.c.verdict,
                         Verdict.__table__.c.score).where(Verdict.__table__.c.claim_id == bindparam("cid")).order_by(Verdict.__table__.c.id)


@_refused_while_restoring
def judge_claim(engine: Engine, claim_id: int, curator: str, judgment: str, *, verdict: str | None = None,
                tag: str | None = None, note: str | None = None, seen_version: int | None = None,
                rule: str | None = None, scope: str | None = None, scope_reason: str | None = None) -> Curation:
    """Accept a claim's machine verdict, or override it with a verdict, a reason tag and a note; or
    revoke one's own judgment on it.

    The judgment also decides every claim with the same core in ``scope`` (default: the primitive's
    scope in primitives.json; a wider or narrower one needs ``scope_reason``), see :mod:`.reuse`, in
    this same transaction.

    ``seen_version``: the claim state's ``version`` the curator saw; a judgment by another curator on
    this claim since then refuses this one (``StaleJudgment``)."""
    curator, shown = _identity(curator)
    note = _storable_note(note)
    rule = consensus_rule(rule)
    if judgment not in CLAIM_JUDGMENTS:
        raise CurationError(f"a claim judgment is one of {', '.join(CLAIM_JUDGMENTS)}")
    if judgment == ClaimJudgment.OVERRIDE:
        if verdict not in VERDICTS:
            raise CurationError(f"an override needs a verdict: {', '.join(VERDICTS)}")
        if tag not in REASON_TAGS:
            raise CurationError("an override needs a reason tag from the list")
        if tag == "other" and not (note or "").strip():
            raise CurationError("the tag 'other' needs a note saying why")
    elif tag is not None and tag not in REASON_TAGS:
        raise CurationError("unknown reason tag")
    from ..formalism.catalogue import SCOPES, catalogue
    from .reuse import NAME as REUSE_VERIFIER
    from .reuse import identify_and_reuse, propagate
    with engine.connect() as conn:  # reads first, outside the write lock
        row = conn.execute(_CLAIM, {"cid": claim_id}).first()
        if row is None:
            raise CurationError(f"there is no claim {claim_id}")
        claim = dict(zip(_CLAIM_COLUMNS, row))
        machine, score = aggregate_claim_verdict([dict(r._mapping) for r in conn.execute(_CLAIM_VERDICTS, {"cid": claim_id})
                                                  if r.verifier != REUSE_VERIFIER])
    default_scope = catalogue()[claim["action"]].scope if claim["action"] in catalogue() else "context"
    if scope is not None and scope not in SCOPES:
        raise CurationError(f"a scope is one of {', '.join(SCOPES)}")
    if scope not in (None, default_scope) and not (scope_reason or "").strip():
        raise CurationError(f"widening or narrowing the scope from {default_scope!r} to {scope!r} needs a reason")
    if claim["core"] is None:  # stored before cores existed (migration 0006): identify them now, once
        identify_and_reuse(engine)
        with engine.connect() as conn:
            claim["core"] = conn.execute(_CLAIM, {"cid": claim_id}).first()[-1]
    trace_id = claim["trace_id"]
    with _trace_transaction(engine, trace_id) as (conn, log):
        _check_fresh(log, curator, seen_version, claim_id, lambda: compute_state(trace_id, log, rule)[1].get(claim_id, {}))
        if judgment == "revoke" and curator not in compute_state(trace_id, log, rule)[1].get(claim_id, {}).get("opinions", {}):
            raise CurationError(f"{curator} has no judgment on this claim to revoke")
        approved = compute_state(trace_id, log, rule)[0]["status"] == TraceJudgment.APPROVE
        row = _append(conn, log, {"target": "claim", "trace_id": trace_id, "claim_id": claim_id, "claim_hash": claim["hash"],
                                  "curator": curator, "curator_display": shown, "judgment": judgment,
                                  "verdict": None if judgment == "revoke" else verdict if judgment == ClaimJudgment.OVERRIDE else machine,
                                  "tag": tag, "note": note or None,
                                  "claim_snapshot": {"node_id": claim["node_id"], "action": claim["action"],
                                                     "args": claim["args"], "text": claim["text"],
                                                     "machine_verdict": machine, "machine_score": score,
                                                     "core": claim["core"], "scope": scope or default_scope,
                                                     "scope_reason": (scope_reason or "").strip() or None}})
        if approved:  # Reactome's rule: an edit after approval sends the item back to review.
            _append(conn, log, {"target": "trace", "trace_id": trace_id, "curator": curator, "curator_display": shown,
                                "judgment": "needs_review",
                                "note": f"claim {claim['node_id']} judged after approval"})
        trace_state, claim_rows = compute_state(trace_id, log, rule)
        _store_state(conn, trace_state, {claim_id: claim_rows[claim_id]})
        propagate(conn, claim["core"], rule)  # every other claim with this core in scope, same transaction
    return Curation(**row)


@_refused_while_restoring
def judge_trace(engine: Engine, trace_id: int, curator: str, judgment: str, note: str | None = None, *,
                seen_version: int | None = None, rule: str | None = None) -> Curation:
    """Approve, reject or mark a trace as needing work (and release the curator's lease on it).

    ``seen_version``: the trace state's ``version`` the curator saw; a judgment by another curator on
    the trace or any of its claims since then refuses this one (``StaleJudgment``)."""
    curator, shown = _identity(curator)
    note = _storable_note(note)
    rule = consensus_rule(rule)
    if judgment not in TRACE_JUDGMENTS:
        raise CurationError(f"a trace judgment is one of {', '.join(TRACE_JUDGMENTS)}")
    with engine.connect() as conn:
        if conn.execute(select(Trace.__table__.c.id).where(Trace.__table__.c.id == trace_id)).first() is None:
            raise CurationError(f"there is no trace {trace_id}")
    with _trace_transaction(engine, trace_id) as (conn, log):
        _check_fresh(log, curator, seen_version, None, lambda: compute_state(trace_id, log, rule)[0])
        row = _append(conn, log, {"target": "trace", "trace_id": trace_id, "curator": curator, "curator_display": shown,
                                  "judgment": judgment, "note": note or None})
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
