"""Re-grounding: a curator says which entity a claim's argument names, and the claim follows.

Every claim is stored with its grounding (:mod:`.core`: per entity argument, each name's namespace,
identifier, canonical name and method). A curator who reads "target = ERK → FPLX:ERK" and knows the
claim means MAPK1 re-grounds it to ``HGNC:6871``. That is a judgment, in one transaction:

* appended to the judgment log (``Curation`` with target ``grounding``, judgment ``reground``: curator,
  time, reason as the note, old and new grounding in the snapshot); the log stays the truth;
* the claim's stored grounding gets the curator's entity (``method`` "curator", ``curator``, ``curation_id``)
  and its core is recomputed from it, so reuse follows (:func:`.reuse.propagate` on the old and new core);
* the claim's verdicts are recomputed by its verifiers with the new grounding in force
  (:func:`vcr_core.verify.runner.recompute_claim`; the verifiers read it through the shared resolvers) and
  appended: each verifier's newest verdict is the one that counts. The trace's filter verdict is redone.

The identifier is checked first (:func:`vcr_core.knowledge.identifiers.check_identifier`: a known
namespace, and an identifier the installed knowledge has where it can be checked); the verdicts are
computed before the transaction. Any refusal or failure stores nothing.
"""
from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..kernel.statuses import GroundingJudgment, TraceJudgment
from ..knowledge.identifiers import IdentifierError, check_identifier
from ..store import Claim, Curation, Verdict
from ..store.grounding import claim_grounding
from ..store.models import utcnow
from .consensus import CurationError, consensus_rule

TARGET, JUDGMENT = "grounding", GroundingJudgment.REGROUND.value
_C = Claim.__table__
_SET = _C.update().where(_C.c.id == bindparam("cid")).values(grounding=bindparam("grounding"), core=bindparam("core"))


def describe(entity: dict[str, Any] | None) -> str:
    """"HGNC:6307 (KDR; gene resolver: symbol)" - one grounded entity as a curator reads it."""
    if not entity:
        return "not grounded"
    if entity.get("namespace") in (None, "", "text"):
        return "not grounded (kept as its text)"
    name = entity.get("canonical")
    how = f"curator {entity['curator']}" if entity.get("curator") else entity.get("method") or "?"
    return f"{entity.get('identifier')} ({f'{name}; ' if name else ''}{how})"


def grounding_lines(claim: Claim | dict) -> list[dict[str, Any]]:
    """One row per entity argument value of a claim: ``argument``, ``name``, its stored ``entity`` (or None)
    and the ``line`` Review shows ("target = KDR → HGNC:6307 (KDR; gene resolver: symbol)")."""
    out = []
    for arg, entities in sorted(claim_grounding(claim).items()):
        for e in entities or []:
            out.append({"argument": arg, "name": e.get("name"), "entity": e,
                        "line": f"{arg} = {e.get('name')} → {describe(e)}"})
    return out


def candidates(engine: Engine, claim_id: int, argument: str, name: str) -> list[dict[str, Any]]:
    """Other groundings of ``name`` a curator may pick (``identifier``, ``canonical``, ``method``): each
    route of the argument's kinds on its own, the claim-hash gene key, and the readings the entity
    verifier found; the current grounding left out."""
    from ..formalism.catalogue import catalogue
    from .core import ground_entity

    with Session(engine) as s:
        claim = s.get(Claim, claim_id)
        if claim is None:
            return []
        evidence = [e for v in s.exec(select(Verdict).where(Verdict.claim_id == claim_id, Verdict.verifier == "entity")).all()
                    for e in (v.evidence or []) if isinstance(e, dict)]
        current = {e.get("identifier") for e in claim_grounding(claim).get(argument, []) if e.get("name") == name}
        prim = catalogue().get(claim.action)
    found: list[dict[str, Any]] = []
    kinds = prim.kinds(argument) if prim is not None else ()
    for kind in kinds:
        e = ground_entity(name, (kind,))
        if e["namespace"] != "text":
            found.append({"identifier": e["identifier"], "canonical": e.get("canonical"), "method": e["method"]})
    if "gene" in kinds:
        try:
            from ..knowledge.genes import get_hash_index
            hit = get_hash_index().ground(name)
            if hit is not None:
                found.append({"identifier": hit.identifier, "canonical": hit.symbol, "method": f"claim-hash gene key: {hit.method}"})
        except Exception:  # noqa: BLE001 - no vocabularies: fewer candidates, a typed identifier still works
            pass
    return _unique(found + _from_evidence(evidence, argument, name), current)


def candidates_from_evidence(verdicts: list[Any], argument: str, name: str, current: str | None = None) -> list[dict[str, Any]]:
    """Candidates (as :func:`candidates`) from a claim's verdicts already read (the entity verifier's
    readings): no vocabulary is loaded, so Review can offer them on every claim card at no cost."""
    evidence = [e for v in verdicts if getattr(v, "verifier", None) == "entity" for e in (v.evidence or []) if isinstance(e, dict)]
    return _unique(_from_evidence(evidence, argument, name), {current} if current else set())


def _from_evidence(evidence: list[dict[str, Any]], argument: str, name: str) -> list[dict[str, Any]]:
    found = []
    for row in evidence:
        if row.get("argument") == argument and row.get("name") == name:
            for h in [row.get("grounding")] + list(row.get("candidates") or []):
                ident = (h or {}).get("identifier")
                if ident and ":" in str(ident):
                    found.append({"identifier": str(ident), "canonical": h.get("name"), "method": f"entity verifier: {h.get('source')}"})
    return found


def _unique(found: list[dict[str, Any]], current: set) -> list[dict[str, Any]]:
    out, seen = [], set(current)
    for c in found:
        if c["identifier"] not in seen:
            seen.add(c["identifier"])
            out.append(c)
    return out


def _pinned(grounding: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every stored entity, as :func:`.core.claim_core`'s ``pinned`` (the core is recomputed from them as stored)."""
    return {arg: {str(e.get("name")): e for e in entities or [] if isinstance(e, dict)}
            for arg, entities in ((grounding or {}).get("args") or {}).items()}


def reground_claim(engine: Engine, claim_id: int, curator: str, argument: str, name: str, identifier: str, *,
                   reason: str | None = None, verifiers: list[str] | None = None, rule: str | None = None) -> Curation:
    """Re-ground the entity ``name`` of ``argument`` of a claim to ``identifier`` (``namespace:id``) as
    ``curator`` (see the module docstring). Returns the log row. ``CurationError`` (one line, nothing
    stored) for an unknown claim, argument or name, an identifier that does not check, or no change.
    ``verifiers``: the claim verifiers to run again (default: those that verified the claim before)."""
    from ..formalism.catalogue import catalogue
    from ..verify.policy import evaluate_trace_on
    from ..verify.runner import recompute_claim
    from .core import claim_core
    from .log import _append, _identity, _storable_note, _store_state, _trace_transaction, compute_state
    from .reuse import identify_and_reuse, propagate

    curator, shown = _identity(curator)
    reason = (_storable_note(reason) or "").strip() or None
    rule = consensus_rule(rule)
    try:
        checked = check_identifier(identifier)
    except IdentifierError as exc:
        raise CurationError(f"{exc}; nothing was stored") from None
    with Session(engine) as s:
        claim = s.get(Claim, claim_id)
        if claim is None:
            raise CurationError(f"there is no claim {claim_id}")
        if claim.core is None:  # stored before cores existed, or by a writer that does not ground: ground it now
            identify_and_reuse(engine)
            s.refresh(claim)
        grounding = copy.deepcopy(claim.grounding or {})
        entities = (grounding.get("args") or {}).get(argument)
        if entities is None:
            raise CurationError(f"the claim has no entity argument {argument!r}; nothing was stored")
        index = next((i for i, e in enumerate(entities) if e.get("name") == name), None)
        if index is None:
            raise CurationError(f"{argument} does not name {name!r}; nothing was stored")
        old = entities[index]
        if old.get("identifier") == checked.identifier and old.get("curator") == curator:
            raise CurationError(f"{argument} = {name} is already grounded to {checked.identifier}; nothing was stored")
        new = {"name": name, "namespace": checked.namespace, "identifier": checked.identifier, "canonical": checked.canonical,
               "method": f"curator ({'checked against ' + checked.against if checked.checked else checked.against})",
               "curator": curator, "at": utcnow().isoformat()}
        entities[index] = new
        core, _ = claim_core(claim.action, claim.args, _pinned(grounding))
        # Computed before the write transaction (verifiers may take seconds); with the new grounding in force.
        pending = recompute_claim(s, claim, verifiers, grounding=grounding, engine=engine)
        snapshot = {"node_id": claim.node_id, "action": claim.action, "args": claim.args, "text": claim.text,
                    "argument": argument, "name": name, "old": old, "new": new, "old_core": claim.core, "core": core,
                    "kinds": list(catalogue()[claim.action].kinds(argument)) if claim.action in catalogue() else [],
                    "checked": checked.checked, "checked_against": checked.against}
        trace_id, claim_hash, old_core, seen = claim.trace_id, claim.hash, claim.core, claim.grounding
    with _trace_transaction(engine, trace_id) as (conn, log):
        if conn.execute(select(_C.c.grounding).where(_C.c.id == claim_id)).scalar_one() != seen:
            raise CurationError("another curator re-grounded this claim meanwhile: look at its grounding and try again "
                                "(nothing was stored)")
        approved = compute_state(trace_id, log, rule)[0]["status"] == TraceJudgment.APPROVE
        row = _append(conn, log, {"target": TARGET, "trace_id": trace_id, "claim_id": claim_id, "claim_hash": claim_hash,
                                  "curator": curator, "curator_display": shown, "judgment": JUDGMENT, "note": reason,
                                  "claim_snapshot": snapshot})
        new["curation_id"] = row["id"]
        conn.execute(_SET, {"cid": claim_id, "grounding": grounding, "core": core})
        if pending:
            conn.execute(Verdict.__table__.insert(), pending)
        if approved:  # as for any judgment after approval (Reactome's rule): the trace goes back to review
            _append(conn, log, {"target": "trace", "trace_id": trace_id, "curator": curator, "curator_display": shown,
                                "judgment": "needs_review", "note": f"claim {snapshot['node_id']} re-grounded after approval"})
        _store_state(conn, compute_state(trace_id, log, rule)[0], {})
        evaluate_trace_on(conn, trace_id)
        for c in dict.fromkeys((old_core, core)):  # the claim leaves its old core's reuse and joins the new one's
            propagate(conn, c, rule)
    return Curation(**row)


def reapply_groundings(session: Session, trace_id: int) -> int:
    """Give a trace's claims the groundings its logged re-groundings set (the newest per argument and name),
    with their cores: after an archive brought the trace and its log back. Returns how many were applied."""
    from .core import claim_core

    rows = session.exec(select(Curation).where(Curation.trace_id == trace_id, Curation.target == TARGET)
                        .order_by(Curation.created_at, Curation.id)).all()
    claims = {c.node_id: c for c in session.exec(select(Claim).where(Claim.trace_id == trace_id)).all()}
    applied = 0
    for r in rows:
        snap = r.claim_snapshot or {}
        claim = claims.get(snap.get("node_id"))
        new = dict(snap.get("new") or {})
        if claim is None or not new or not claim.grounding:
            continue
        grounding = copy.deepcopy(claim.grounding)
        entities = (grounding.get("args") or {}).get(snap.get("argument")) or []
        for i, e in enumerate(entities):
            if e.get("name") == snap.get("name"):
                entities[i] = {**new, "curation_id": r.id}
                applied += 1
        claim.grounding = grounding
        claim.core = claim_core(claim.action, claim.args, _pinned(grounding))[0]
        session.add(claim)
    session.flush()
    return applied
