"""A claim's core identity: what the claim says, whoever worded it.

The core is the primitive, its entity arguments grounded to ``namespace:identifier`` and its direction
(with the few other short arguments that change the claim's meaning: a modification type, a site, a
location), while free text (``via``, ``mechanism``, affinity, residues, confidence, evidence type,
states) is left out. Two models' wordings of one fact ("VEGFR2" / "KDR", "ERK1/2" / "ERK", "Imatinib" /
"imatinib") share one core; the full claim hash (``formalism.hashing``) stays the exact identity.

Grounding, one route per argument kind (``types`` in primitives.json), the first that knows the name wins:

* ``gene`` - the one gene resolver (``knowledge.genes.resolve``): HGNC ids for genes, FamPlex ids for
  families, kept as such (a family is never replaced by one of its members);
* ``chemical``, ``cell_line``, ``disease`` - the NER dictionary (``preprocess.grounding.ground``):
  DrugBank / MeSH / ChEBI, EFO, MONDO / MeSH ids;
* ``go_id`` - the GO id as written;
* anything else, or a name no vocabulary knows - its normalised text (namespace ``text``).

Each claim row stores ``core`` (SHA-256 of the canonical core), ``grounding`` (per argument: name,
namespace, identifier, canonical name, method; plus direction, scope and context) and the trace's scope
keys ``pert_key`` (grounded perturbation) and ``cell_key`` (grounded cell line or type). They are
computed at save (generation, import, archive: :func:`identify_trace`) and, for claims stored before
(migration 0006 leaves them NULL), on first use (:func:`identify_claims`). A curator may re-ground one
entity (:mod:`.grounding`): the stored entity then carries ``curator`` and the core is recomputed from the
stored grounding as it stands (:func:`claim_core`'s ``pinned``).
"""
from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..formalism.catalogue import META_ARGS, SCOPES, catalogue
from ..formalism.hashing import normalise_text
from ..kernel.grounding import suspended
from ..store import Claim, Record, Trace, locked_transaction
from ..store.traces import record_model

# Text arguments that are wording or evidence, not the claim (left out of the core).
FREE_TEXT = frozenset(META_ARGS) | {"mechanism", "affinity", "unit", "residues_actor", "residues_target", "stoichiometry",
                                    "evidence_type", "from_state", "to_state", "extras", "outcome"}
_NER_TYPES = {"chemical": "Chemical", "cell_line": "CellLine", "disease": "Disease"}
CORE_VERSION = "1"


def _text_entity(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": "text", "identifier": normalise_text(name), "canonical": None, "method": "normalised text"}


@functools.lru_cache(maxsize=200_000)
def ground_entity(name: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    """``{name, namespace, identifier, canonical, method}`` of one entity name of an argument taking ``kinds``."""
    with suspended():  # resolved afresh: a claim's stored grounding must not answer (nor be cached here)
        return _ground_entity(name, kinds)


def _ground_entity(name: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    text = name.strip()
    for kind in kinds:
        if kind == "gene":
            from ..knowledge.genes import resolve
            hit = resolve(text)
            if hit is not None and hit.identifier:
                return {"name": name, "namespace": hit.namespace, "identifier": hit.identifier, "canonical": hit.symbol,
                        "method": f"gene resolver: {hit.method}"}
        elif kind == "go_id" and text.upper().startswith("GO:"):
            return {"name": name, "namespace": "GO", "identifier": text.upper(), "canonical": None, "method": "GO id"}
        elif kind in _NER_TYPES:
            from ..preprocess.grounding import ground
            try:
                hit = ground(text, _NER_TYPES[kind])
            except Exception:  # noqa: BLE001 - missing vocabularies: the name stays text
                hit = None
            if hit is not None and hit.identifier:
                return {"name": name, "namespace": hit.namespace, "identifier": f"{hit.namespace}:{hit.identifier}"
                        if hit.namespace and not str(hit.identifier).startswith(f"{hit.namespace}:") else hit.identifier,
                        "canonical": hit.canonical, "method": "NER dictionary"}
    return _text_entity(name)


def _key(entity: dict[str, Any]) -> str:
    return entity["identifier"] if entity["namespace"] != "text" else f"text:{entity['identifier']}"


def claim_core(action: str, args: dict[str, Any] | None,
               pinned: dict[str, dict[str, dict[str, Any]]] | None = None) -> tuple[str, dict[str, Any]]:
    """(core hash, grounding) of one claim from its primitive and arguments (no context: scope keys are the trace's).
    ``pinned``: argument -> name -> the entity to use instead of grounding that name (a curator's re-grounding)."""
    action = (action or "").strip().lower()
    prim = catalogue().get(action)
    grounding: dict[str, list[dict[str, Any]]] = {}
    key_args: dict[str, Any] = {}
    for arg, value in sorted((args or {}).items()):
        if arg in FREE_TEXT or value in (None, "", []):
            continue
        kinds = prim.kinds(arg) if prim is not None else ("text",)
        values = value if isinstance(value, (list, tuple)) else [value]
        if kinds == ("text",):
            key_args[arg] = sorted(normalise_text(str(v)) for v in values) if isinstance(value, (list, tuple)) \
                else normalise_text(str(value))
            continue
        fixed = (pinned or {}).get(arg) or {}
        entities = [fixed.get(str(v)) or ground_entity(str(v), kinds) for v in values if str(v).strip()]
        grounding[arg] = entities
        keys = sorted({_key(e) for e in entities})
        key_args[arg] = keys if isinstance(value, (list, tuple)) else (keys[0] if keys else "")
    payload = json.dumps({"v": CORE_VERSION, "action": action, "args": key_args}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"))
    info = {"args": grounding, "direction": key_args.get("direction"), "scope": prim.scope if prim else "context"}
    return hashlib.sha256(payload.encode("utf-8")).hexdigest(), info


def warm(explanation: Any) -> None:
    """Ground an explanation's claims before a write transaction (loading the vocabularies the first time
    takes a minute; inside the saving transaction it would hold the writers' lock that long)."""
    for node in getattr(explanation, "nodes", None) or []:
        if node.action != "set_context":
            claim_core(node.action, node.args)


def context_keys(record: Record) -> tuple[str, str]:
    """(perturbation key, cell key) of a stored record: its perturbations and cell line grounded."""
    try:
        rec = record_model(record)
        names = [p.label for p in rec.perturbations if p.label] or [record.perturbation_name or ""]
        cell = rec.context.cell_line or rec.context.cell_type or ""
    except Exception:  # noqa: BLE001 - a record that no longer validates keys on its stored labels
        names, cell = [record.perturbation_name or ""], record.context_label or ""
    pert = " + ".join(sorted({_key(ground_entity(n, ("chemical", "gene"))) for n in names if n.strip()}))
    return pert or "text:", (_key(ground_entity(cell, ("cell_line",))) if cell.strip() else "text:")


def _identify(action: str, args: dict | None, pert: str, cell: str) -> dict[str, Any]:
    core, info = claim_core(action, args)
    info["context"] = {"perturbation": pert, "cell": cell}
    return {"core": core, "grounding": info, "pert_key": pert, "cell_key": cell}


def identify_trace(session: Session, trace: Trace) -> int:
    """Compute the core and grounding of a just-saved trace's claims in the caller's session (at save)."""
    record = session.get(Record, trace.record_id)
    if record is None:
        return 0
    pert, cell = context_keys(record)
    claims = session.exec(select(Claim).where(Claim.trace_id == trace.id)).all()
    for claim in claims:
        for k, v in _identify(claim.action, claim.args, pert, cell).items():
            setattr(claim, k, v)
        session.add(claim)
    session.flush()
    return len(claims)


_C = Claim.__table__
_SET_CORE = _C.update().where(_C.c.id == bindparam("cid")).values(
    core=bindparam("core"), grounding=bindparam("grounding"), pert_key=bindparam("pert_key"), cell_key=bindparam("cell_key"))


def identify_claims(engine: Engine, *, batch: int = 2000, after: Any = None) -> int:
    """Give every claim stored without a core (before migration 0006, or by a writer that does not
    ground) its core, grounding and scope keys: grounding happens outside the writers' lock, the
    updates in one short transaction per ``batch`` claims. Returns how many claims it identified."""
    done = 0
    while True:
        with Session(engine) as s:
            rows = s.exec(select(Claim.id, Claim.action, Claim.args, Trace.record_id)
                          .join(Trace, Trace.id == Claim.trace_id).where(Claim.core.is_(None)).limit(batch)).all()
            if not rows:
                return done
            records = {r.id: r for r in s.exec(select(Record).where(Record.id.in_({r[3] for r in rows}))).all()}
            keys = {rid: context_keys(rec) for rid, rec in records.items()}
        params = [{"cid": cid, **_identify(action, args, *keys.get(rid, ("text:", "text:")))}
                  for cid, action, args, rid in rows]
        with locked_transaction(engine) as conn:
            conn.execute(_SET_CORE, params)
            if after is not None:
                after(conn, params)  # reuse.identify_and_reuse: what the team already decided about these cores
        done += len(params)


def scope_matches(scope: str, source: dict[str, Any], target: dict[str, Any]) -> bool:
    """Whether a judgment of ``scope`` made on claim ``source`` holds for claim ``target`` (same core
    assumed; both dicts carry ``id``, ``pert_key``, ``cell_key``)."""
    if scope not in SCOPES:
        return False
    if scope == "any":
        return True
    if scope == "trace":
        return source.get("trace_id") == target.get("trace_id")
    if source.get("pert_key") != target.get("pert_key"):
        return False
    return scope == "perturbation" or source.get("cell_key") == target.get("cell_key")
