"""An explanation assembled from knowledge beside a model's explanation of the same record, claim by claim."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..formalism.hashing import normalise_text
from ..store import Claim, Trace
from .assembler import ASSEMBLER_NAME, evidence_lines

_MAIN_ARGS = ("target", "protein", "phenotype", "pathway", "entity", "gene_list", "rna_id", "complex", "entity_b")


def is_assembled(trace: Trace) -> bool:
    return trace.provider == "knowledge" or trace.model == ASSEMBLER_NAME


def traces_by_kind(engine: Engine) -> dict[int, dict[str, list[int]]]:
    """record id -> {'assembled': [trace ids], 'model': [trace ids]} for records with an assembled trace."""
    with Session(engine) as s:
        rows = s.exec(select(Trace.id, Trace.record_id, Trace.provider, Trace.model).order_by(Trace.id)).all()
    out: dict[int, dict[str, list[int]]] = {}
    for tid, rid, provider, model in rows:
        kind = "assembled" if provider == "knowledge" or model == ASSEMBLER_NAME else "model"
        out.setdefault(rid, {"assembled": [], "model": []})[kind].append(tid)
    return {rid: v for rid, v in out.items() if v["assembled"]}


def _loose_key(c: Claim) -> tuple:
    args = c.args or {}
    main = next((args[k] for k in _MAIN_ARGS if args.get(k)), None)
    if isinstance(main, list):
        main = ",".join(sorted(normalise_text(str(x)) for x in main))
    return (c.action, normalise_text(str(main)) if main is not None else None)


def claim_by_claim(engine: Engine, assembled_id: int, model_id: int) -> list[dict[str, Any]]:
    """Rows pairing the claims of the two traces: the same claim (same hash), the same action on the same
    entity (e.g. another direction or phenotype wording), or a claim only one of them makes. The assembled
    side carries each claim's sources."""
    with Session(engine) as s:
        a_trace = s.get(Trace, assembled_id)
        a = s.exec(select(Claim).where(Claim.trace_id == assembled_id).order_by(Claim.position)).all()
        m = s.exec(select(Claim).where(Claim.trace_id == model_id).order_by(Claim.position)).all()
    evidence = (((a_trace.tool_context or {}).get(ASSEMBLER_NAME) or {}).get("evidence") or {}).get("claims") or {}
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    for c in a:
        same = next((x for x in m if x.id not in used and x.hash == c.hash), None)
        match = "same claim" if same else None
        if same is None:
            same = next((x for x in m if x.id not in used and _loose_key(x) == _loose_key(c) and c.action != "participates_in"), None)
            match = "same action and entity" if same else "only assembled"
        if same is not None:
            used.add(same.id)
        rows.append({"match": match, "assembled": c.text, "model": same.text if same else "",
                     "assembled sources": " | ".join(evidence_lines(evidence.get(c.node_id) or [])) or (c.via or ""),
                     "inferred": (c.confidence == "inferred")})
    for x in m:
        if x.id not in used:
            rows.append({"match": "only model", "assembled": "", "model": x.text, "assembled sources": "", "inferred": False})
    return rows


def claim_sources(trace: Trace, node_id: str) -> list[str]:
    """The evidence lines of one claim of an assembled trace ([] for other traces)."""
    entry = (trace.tool_context or {}).get(ASSEMBLER_NAME) or {}
    return evidence_lines(((entry.get("evidence") or {}).get("claims") or {}).get(node_id) or [])
