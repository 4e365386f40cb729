"""Curation that compounds: a judgment on one claim decides every other claim with the same core in scope.

* A claim judgment carries a **scope** (the primitive's ``scope`` in primitives.json, or one the curator
  widened or narrowed with a reason): ``any``, ``perturbation`` (any cell line), ``context`` (same
  perturbation and cell line) or ``trace``.
* Every claim with the same core (:mod:`.core`) that the judgment's scope covers and that has no
  judgment of its own is **decided by reuse**: the consensus rule is applied to each curator's latest
  judgment on the core that covers the claim (``two_agree`` needs two curators on the core; two who
  differ make a conflict on the core). The reuse in force is kept in ``claim_reuse`` and every change is
  appended as a verdict of the ``curated`` verifier (:class:`CuratedVerifier`) naming the curator, the
  trace the judgment was made on and when; a withdrawn reuse is appended as an ``unverifiable`` verdict
  saying so. Nothing overwrites a claim's own judgment or a machine verdict.
* :func:`propagate` runs inside the judgment's own transaction, under the writers' lock (one judgment
  deciding 500 claims is one transaction); an override moves every reused verdict, a revoked judgment
  withdraws its reuse, and traces saved later get what the team already decided (:func:`after_save`).
"""
from __future__ import annotations

import functools
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import (Float, Integer, String, Text, and_, any_, bindparam, cast, false, func, literal, literal_column, or_,
                        select, true)
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from ..kernel.statuses import ClaimJudgment, CurationState, VerdictValue
from ..store import Claim, ClaimReuseRow, ClaimStateRow, Curation, Trace, Verdict
from ..store.models import utcnow
from .consensus import _consensus, consensus_rule
from ..formalism.catalogue import SCOPE_TEXT
from .core import identify_trace, scope_matches

NAME, VERSION = "curated", "1"
_C, _CU, _R, _V, _CS = (Claim.__table__, Curation.__table__, ClaimReuseRow.__table__, Verdict.__table__,
                        ClaimStateRow.__table__)
_CORE_LOG = (select(_CU.c.id, _CU.c.curator, _CU.c.judgment, _CU.c.verdict, _CU.c.claim_id, _CU.c.trace_id,
                    _CU.c.created_at, _CU.c.claim_snapshot, _C.c.pert_key, _C.c.cell_key, _C.c.action)
             .join(_C, _C.c.id == _CU.c.claim_id)
             .where(_C.c.core == bindparam("core"), _CU.c.target == "claim").order_by(_CU.c.id))
_CHUNK = 5000  # claim ids per statement (one bound list each, see _ids_in: bounds its size)


def _default_scope(action: str) -> str:
    from ..formalism.catalogue import catalogue
    prim = catalogue().get(action)
    return prim.scope if prim is not None else "context"


def _opinions(log: list[dict[str, Any]], rule: str) -> tuple[list[dict[str, Any]], set[int]]:
    """(each curator's active judgments on the core: latest per claim, revoked ones dropped; the claims
    whose own judgments settle them under the rule: one judgment under ``one``, two under ``two_agree`` -
    a claim waiting for its second opinion is decided by the core's consensus like any other)."""
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for r in log:
        latest[(r["curator"], r["claim_id"])] = r
    active = [r for r in latest.values() if r["judgment"] != "revoke"]
    for r in active:
        snap = r.get("claim_snapshot") or {}
        r["scope"] = snap.get("scope") or _default_scope(r["action"])
        r["scope_reason"] = snap.get("scope_reason")
    per_claim: dict[int, int] = defaultdict(int)
    for r in active:
        per_claim[r["claim_id"]] += 1
    return active, {cid for cid, n in per_claim.items() if n >= (2 if rule == "two_agree" else 1)}


def _message(o: dict[str, Any]) -> str:
    when = o["created_at"].strftime("%Y-%m-%d %H:%M") if hasattr(o["created_at"], "strftime") else str(o["created_at"])
    how = "accepted" if o["judgment"] == ClaimJudgment.ACCEPT else f"→ {o['verdict']}"
    reason = f"; {o['scope_reason']}" if o.get("scope_reason") else ""
    return f"decided by {o['curator']}'s judgment on trace #{o['trace_id']} ({SCOPE_TEXT[o['scope']]}{reason}), {how}, {when}"


def decide(target: dict[str, Any], active: list[dict[str, Any]], rule: str) -> tuple[str, str | None, list[dict[str, Any]]]:
    """(status, verdict, the deciding opinions) of one claim from the core's active judgments covering it."""
    mine: dict[str, dict[str, Any]] = {}
    for o in active:
        if scope_matches(o["scope"], {"trace_id": o["trace_id"], "pert_key": o["pert_key"], "cell_key": o["cell_key"]}, target):
            if o["curator"] not in mine or o["id"] > mine[o["curator"]]["id"]:
                mine[o["curator"]] = o
    # oldest first, as _consensus expects (core judgments are ordered by id: all are made here, none imported)
    status, verdict = _consensus(dict(sorted(mine.items(), key=lambda kv: kv[1]["id"])), "verdict", rule)
    ordered = sorted(mine.values(), key=lambda o: o["id"])
    return status, verdict, (ordered[-2:] if rule == "two_agree" else ordered[-1:])


def _source(status: str, deciding: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": status, "message": "; ".join(_message(o) for o in deciding),
            "judgments": [{"curation_id": o["id"], "curator": o["curator"], "trace_id": o["trace_id"], "claim_id": o["claim_id"],
                           "verdict": o["verdict"], "judgment": o["judgment"], "scope": o["scope"],
                           "scope_reason": o.get("scope_reason"), "at": str(o["created_at"])} for o in deciding]}


def _key_is(col, i: int, name: str, null: bool):
    return col.is_(None) if null else col == bindparam(f"{name}{i}")


def _covered(i: int, scope: str, pert_null: bool, cell_null: bool):
    """The SQL condition on a core's claims that opinion number ``i`` covers (what :func:`scope_matches`
    says of each one), its trace, perturbation and cell keys bound as t{i}, p{i}, c{i}; ``*_null``:
    that key is NULL (compared with IS NULL, not bound)."""
    if scope == "any":
        return true()
    if scope == "trace":
        return _C.c.trace_id == bindparam(f"t{i}")
    if scope == "perturbation":
        return _key_is(_C.c.pert_key, i, "p", pert_null)
    if scope == "context":
        return and_(_key_is(_C.c.pert_key, i, "p", pert_null), _key_is(_C.c.cell_key, i, "c", cell_null))
    return false()


@functools.lru_cache(maxsize=256)
def _core_claims(dialect: str, shape: tuple[tuple[str, bool, bool], ...], only: bool):
    """The statement reading a core's claims that its active opinions cover, or that have a reuse row
    (with the reuse row). Built once per ``shape`` of the opinions (each one's scope and whether its
    perturbation and cell keys are NULL), so a judgment, which runs it under the writers' lock, neither
    builds nor compiles it. Bound: ``core``, each opinion's keys (:func:`_covered`) and, with ``only``,
    the claim ids to limit to as ``only``."""
    q = (select(_C.c.id, _C.c.trace_id, _C.c.pert_key, _C.c.cell_key, _R.c.status, _R.c.verdict,
                cast(_R.c.source, Text))  # the kept source as text: compared as written, parsed only if it differs
         .select_from(_C.outerjoin(_R, _R.c.claim_id == _C.c.id))
         .where(_C.c.core == bindparam("core", type_=String),
                or_(*[_covered(i, *s) for i, s in enumerate(shape)], _R.c.claim_id.is_not(None)))
         .order_by(_C.c.id))
    return q.where(_ids_in(_C.c.id, dialect, "only")) if only else q


def _judgment_ids(source_text: str | None) -> list[int]:
    src = json.loads(source_text) if source_text else None
    return [j["curation_id"] for j in (src or {}).get("judgments", [])]


def propagate(conn: Connection, core: str | None, rule: str, *, only: set[int] | None = None,
              append_verdicts: bool = True) -> dict[str, int]:
    """Bring the reuse of ``core``'s judgments up to date on an open write transaction: upsert or delete
    ``claim_reuse`` rows and append a ``curated`` verdict for every claim whose reused verdict changed.
    ``only``: limit to these claim ids (a trace just saved); ``append_verdicts=False`` restores the kept
    rows only (an archive brings the curated verdicts it had). Returns counts.

    It runs under the writers' lock, so it is set-based: it reads only the claims the core's judgments
    cover or that have a reuse row, decides once per group of claims the same judgments cover, and writes
    each group with one ``INSERT ... SELECT`` (the verdict, source and message bound once, not per claim)."""
    if not core:
        return {"decided": 0, "withdrawn": 0, "changed": 0}
    log = [dict(r._mapping) for r in conn.execute(_CORE_LOG, {"core": core})]
    active, own = _opinions(log, rule)
    version = log[-1]["id"] if log else 0
    shape = tuple((o["scope"], o["pert_key"] is None, o["cell_key"] is None) for o in active)
    q = _core_claims(conn.dialect.name, shape, only is not None)
    params: dict[str, Any] = {"core": core}
    for i, o in enumerate(active):
        params.update({f"t{i}": o["trace_id"], f"p{i}": o["pert_key"], f"c{i}": o["cell_key"]})
    if only is not None:
        params["only"] = _bind_ids(conn, sorted(only))
    dumps = getattr(conn.dialect, "_json_serializer", None) or json.dumps  # as the JSON column writes it
    sources = [{"trace_id": o["trace_id"], "pert_key": o["pert_key"], "cell_key": o["cell_key"]} for o in active]
    groups: dict[tuple[int, ...], tuple] = {}  # the opinions covering a claim -> its decision, computed once
    upserts: dict[tuple[int, ...], list[int]] = defaultdict(list)
    decided_verdicts: dict[tuple[int, ...], list[int]] = defaultdict(list)
    withdrawals: dict[str, list[int]] = defaultdict(list)
    deletes: list[int] = []
    n_decided = 0
    for cid, tid, pert, cell, old_status, old_verdict, old_source in conn.execute(q, params):
        target = {"trace_id": tid, "pert_key": pert, "cell_key": cell}
        key = () if cid in own else tuple(i for i, o in enumerate(active) if scope_matches(o["scope"], sources[i], target))
        if key not in groups:
            status, verdict, deciding = decide(target, [active[i] for i in key], rule) if key else ("uncurated", None, [])
            source = _source(status, deciding) if deciding else None
            groups[key] = (status, verdict, source, dumps(source) if source else None, [o["id"] for o in deciding])
        status, verdict, source, source_text, ids = groups[key]
        if status == CurationState.UNCURATED:
            if old_status is not None:
                deletes.append(cid)
                if old_status == CurationState.DECIDED:
                    withdrawals["withdrawn: the judgment that decided this claim was revoked or changed"].append(cid)
            continue
        n_decided += status == CurationState.DECIDED
        if old_status == status and old_verdict == verdict and (old_source == source_text or _judgment_ids(old_source) == ids):
            continue
        upserts[key].append(cid)
        # a changed decision: its verdict (the source or verdict differs from the kept one), or a withdrawal
        if status == CurationState.DECIDED:
            decided_verdicts[key].append(cid)
        elif old_status == CurationState.DECIDED:
            what = "curators disagree on this claim's core" if status == CurationState.CONFLICT else "waiting for a second curator"
            withdrawals[f"withdrawn: {what}"].append(cid)
    for chunk in _chunks(deletes):
        conn.execute(_delete(conn.dialect.name), {"ids": _bind_ids(conn, chunk)})
    for key, cids in upserts.items():
        status, verdict, source, _text, _ids = groups[key]
        for chunk in _chunks(cids):
            conn.execute(_upsert(conn.dialect.name), {"ids": _bind_ids(conn, chunk), "core": core, "status": status,
                                                      "verdict": verdict, "source": source, "version": version})
    if append_verdicts:
        now = utcnow()
        for key, cids in decided_verdicts.items():
            status, verdict, source, _text, _ids = groups[key]
            for chunk in _chunks(cids):
                conn.execute(_verdicts(conn.dialect.name), {
                    "ids": _bind_ids(conn, chunk), "verdict": verdict or "unverifiable",
                    "score": 1.0 if verdict in (VerdictValue.SUPPORTED, VerdictValue.CONTRADICTED) else 0.0,
                    "evidence": [{"kind": "curation", **j} for j in source["judgments"]],
                    "message": source["message"], "created_at": now})
        for message, cids in withdrawals.items():
            for chunk in _chunks(cids):
                conn.execute(_verdicts(conn.dialect.name), {"ids": _bind_ids(conn, chunk), "verdict": "unverifiable",
                                                            "score": 0.0, "evidence": [], "message": message, "created_at": now})
    return {"decided": n_decided, "withdrawn": len(deletes), "changed": sum(map(len, upserts.values())) + len(deletes)}


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _ids_in(col, dialect: str, name: str = "ids"):
    """``col`` among the claim ids bound as ``name``, as one parameter whatever their number: the
    statement's text stays the same, so neither SQLAlchemy nor the driver prepares it again for each
    length of the list (these statements run under the writers' lock). See :func:`_bind_ids`."""
    if dialect == "sqlite":
        return col.in_(select(literal_column("value", Integer)).select_from(func.json_each(bindparam(name, type_=String))))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY
        return col == any_(bindparam(name, type_=ARRAY(Integer)))
    return col.in_(bindparam(name, expanding=True))


def _bind_ids(conn: Connection, ids: list[int]) -> Any:
    """``ids`` as :func:`_ids_in` binds them on this connection's database."""
    return json.dumps(ids) if conn.dialect.name == "sqlite" else list(ids)


@functools.lru_cache(maxsize=None)
def _delete(dialect: str):
    """Delete the reuse rows of the claims of ``ids``."""
    return _R.delete().where(_ids_in(_R.c.claim_id, dialect))


@functools.lru_cache(maxsize=None)
def _verdicts(dialect: str):
    """One curated verdict per claim of ``ids``, all saying the same (bound once); claim and trace from the claim row."""
    return _V.insert().from_select(
        ["trace_id", "claim_id", "claim_hash", "verifier", "version", "verdict", "score", "evidence", "message", "created_at"],
        select(_C.c.trace_id, _C.c.id, _C.c.hash, literal(NAME, String), literal(VERSION, String), bindparam("verdict", type_=String),
               bindparam("score", type_=Float), bindparam("evidence", type_=_V.c.evidence.type),
               bindparam("message", type_=Text), bindparam("created_at", type_=_V.c.created_at.type))
        .where(_ids_in(_C.c.id, dialect)).order_by(_C.c.id))


@functools.lru_cache(maxsize=None)
def _upsert(dialect: str):
    """Insert or update the reuse row of every claim of ``ids`` with one decision (bound once)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    cols = ("trace_id", "core", "status", "verdict", "source", "version")
    rows = select(_C.c.id, _C.c.trace_id, bindparam("core", type_=String), bindparam("status", type_=String),
                  bindparam("verdict", type_=String), bindparam("source", type_=_R.c.source.type),
                  bindparam("version", type_=Integer)).where(_ids_in(_C.c.id, dialect))  # SQLite's upsert from a SELECT needs its WHERE
    ins = insert(_R).from_select(["claim_id", *cols], rows)
    return ins.on_conflict_do_update(index_elements=["claim_id"], set_={k: ins.excluded[k] for k in cols})



def _reuse_known(conn: Connection, params: list[dict[str, Any]]) -> None:
    by_core: dict[str, set[int]] = {}
    for p in params:
        by_core.setdefault(p["core"], set()).add(p["cid"])
    rule = consensus_rule()
    for core in judged_among(conn, list(by_core)):
        propagate(conn, core, rule, only=by_core[core])


def identify_and_reuse(engine: Engine) -> int:
    """Give claims saved without a core theirs (stored before migration 0006, or a save whose grounding
    failed) and apply what the team already decided about those cores, in the same transactions."""
    from .core import identify_claims

    return identify_claims(engine, after=_reuse_known)


def judged_among(conn: Connection, cores: list[str]) -> list[str]:
    """The cores among ``cores`` that have a claim judgment."""
    out: list[str] = []
    for i in range(0, len(cores), 500):
        out += [r[0] for r in conn.execute(select(_C.c.core).join(_CU, _CU.c.claim_id == _C.c.id)
                                           .where(_C.c.core.in_(cores[i:i + 500]), _CU.c.target == "claim").distinct())]
    return out


def after_save(session: Session, trace: Trace, rule: str | None = None) -> int:
    """At save (generation, import, archive), in the saving transaction: ground the trace's claims and
    apply what the team already decided about their cores. Returns how many claims were decided."""

    identify_trace(session, trace)
    rows = session.execute(select(_C.c.id, _C.c.core).where(_C.c.trace_id == trace.id)).all()
    by_core: dict[str, set[int]] = defaultdict(set)
    for cid, core in rows:
        if core:
            by_core[core].add(cid)
    if not by_core:
        return 0
    judged = {r[0] for r in session.execute(select(_C.c.core).join(_CU, _CU.c.claim_id == _C.c.id)
                                            .where(_C.c.core.in_(list(by_core)), _CU.c.target == "claim").distinct())}
    if not judged:
        return 0
    rule = consensus_rule(rule)
    conn = session.connection()
    return sum(propagate(conn, core, rule, only=by_core[core])["decided"] for core in judged)


def rebuild_reuse(engine: Engine, rule: str | None = None, *, append_verdicts: bool = True) -> dict[str, int]:
    """Recompute every claim's reuse from the log (after a change of consensus rule, or a restore:
    ``append_verdicts=False`` when the curated verdicts came with the restored rows)."""
    from ..store import locked_transaction

    identify_and_reuse(engine)
    rule = consensus_rule(rule)
    with Session(engine) as s:
        cores = [r[0] for r in s.execute(select(_C.c.core).join(_CU, _CU.c.claim_id == _C.c.id)
                                         .where(_CU.c.target == "claim", _C.c.core.is_not(None)).distinct())]
    total = {"cores": len(cores), "decided": 0}
    with locked_transaction(engine) as conn:
        for core in cores:
            total["decided"] += propagate(conn, core, rule, append_verdicts=append_verdicts)["decided"]
    return total


# --- read models ---

def reuse_for_trace(engine: Engine, trace_id: int) -> dict[int, dict[str, Any]]:
    """Claim id -> its reuse in force (status, verdict, source with the readable message) for one trace."""
    with engine.connect() as conn:
        return {r.claim_id: {"status": r.status, "verdict": r.verdict, "source": r.source or {}}
                for r in conn.execute(select(_R).where(_R.c.trace_id == trace_id))}


def undecided_claims(engine: Engine) -> int:
    """How many claims are decided neither by a judgment of their own nor by reuse."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(_C).where(
            _C.c.id.not_in(select(_CS.c.claim_id).where(_CS.c.status == CurationState.DECIDED)),
            _C.c.id.not_in(select(_R.c.claim_id).where(_R.c.status == CurationState.DECIDED)))).scalar_one()


def core_queue(engine: Engine, limit: int = 25) -> list[dict[str, Any]]:
    """Cores to judge, most work saved per click first: the number of traces in which the core is still
    undecided (no judgment of its own, no reuse in force), then verifier disagreement on it (how many
    distinct machine verdicts its claims have). Each row names a claim to judge (the oldest undecided)."""
    identify_and_reuse(engine)  # traces saved without cores (generation) get theirs, and the team's decisions
    undecided = and_(_C.c.id.not_in(select(_CS.c.claim_id).where(_CS.c.status == CurationState.DECIDED)),
                     _C.c.id.not_in(select(_R.c.claim_id).where(_R.c.status == CurationState.DECIDED)), _C.c.core.is_not(None))
    machine = (select(_V.c.claim_id, func.count(func.distinct(_V.c.verdict)).label("kinds"))
               .where(_V.c.claim_id.is_not(None), _V.c.verifier != NAME).group_by(_V.c.claim_id).subquery())
    q = (select(_C.c.core, func.count(func.distinct(_C.c.trace_id)).label("traces"), func.min(_C.c.id).label("claim_id"),
                func.max(func.coalesce(machine.c.kinds, 0)).label("disagreement"))
         .outerjoin(machine, machine.c.claim_id == _C.c.id).where(undecided).group_by(_C.c.core)
         .order_by(func.count(func.distinct(_C.c.trace_id)).desc(), func.max(func.coalesce(machine.c.kinds, 0)).desc(),
                   func.min(_C.c.id)).limit(limit))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def core_view(engine: Engine, core: str) -> dict[str, Any]:
    """One core with all its occurrences: each claim's trace, wording, scope keys, own state and reuse."""
    with engine.connect() as conn:
        rows = conn.execute(select(_C.c.id, _C.c.trace_id, _C.c.text, _C.c.action, _C.c.grounding, _C.c.pert_key, _C.c.cell_key,
                                   _CS.c.status.label("own_status"), _CS.c.verdict.label("own_verdict"),
                                   _R.c.status.label("reuse_status"), _R.c.verdict.label("reuse_verdict"), _R.c.source)
                            .outerjoin(_CS, _CS.c.claim_id == _C.c.id).outerjoin(_R, _R.c.claim_id == _C.c.id)
                            .where(_C.c.core == core).order_by(_C.c.trace_id, _C.c.id)).all()
    occ = [dict(r._mapping) for r in rows]
    first = occ[0] if occ else {}
    return {"core": core, "action": first.get("action"), "grounding": (first.get("grounding") or {}).get("args", {}),
            "occurrences": occ, "traces": sorted({o["trace_id"] for o in occ})}


def core_conflicts(engine: Engine) -> list[dict[str, Any]]:
    """One row per core on which curators disagree, with every trace it touches."""
    with engine.connect() as conn:
        rows = conn.execute(select(_R.c.core, _R.c.trace_id).where(_R.c.status == CurationState.CONFLICT)).all()
        own = conn.execute(select(_C.c.core, _CS.c.trace_id).join(_C, _C.c.id == _CS.c.claim_id)
                           .where(_CS.c.status == CurationState.CONFLICT)).all()
    out: dict[str, set[int]] = defaultdict(set)
    for core, tid in list(rows) + list(own):
        if core:
            out[core].add(tid)
    return [{"core": core, "traces": sorted(t)} for core, t in sorted(out.items(), key=lambda kv: -len(kv[1]))]


class CuratedVerifier:
    """The ``curated`` verifier: a claim's verdict from a judgment made on another claim with the same
    core in scope. Judgments write its verdicts themselves (:func:`propagate`); run through the runner it
    reports the reuse in force for the claim (``default = False``: it is no machine evidence)."""

    name, version = NAME, VERSION
    default = False
    needs_engine = True
    latest_only = True  # a newer verdict of this verifier replaces its older ones (overrides, withdrawals)

    def __init__(self, engine: Engine | None = None):
        self.engine = engine

    def applies(self, node) -> bool:
        return True

    def verify(self, ctx):
        from ..verify.base import ClaimVerdict, unverifiable

        if self.engine is None or ctx.trace_id is None:
            return unverifiable("no judgment on this claim's core")
        with self.engine.connect() as conn:
            row = conn.execute(select(_R.c.status, _R.c.verdict, _R.c.source).join(_C, _C.c.id == _R.c.claim_id)
                               .where(_C.c.trace_id == ctx.trace_id, _C.c.node_id == ctx.node.id)).first()
        if row is None or row.status != CurationState.DECIDED:
            return unverifiable("no judgment on this claim's core decides it")
        src = row.source or {}
        return ClaimVerdict(row.verdict or "unverifiable", 1.0, [{"kind": "curation", **j} for j in src.get("judgments", [])],
                            src.get("message", ""))
