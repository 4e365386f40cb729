"""Reading a claim's stored grounding (computed by ``vcr_core.curation.core`` at save, import and on
first use): one small function any layer above the store may call (verifiers included)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .models import Claim


def claim_grounding(claim: Claim | dict | int, engine: Engine | None = None) -> dict[str, list[dict[str, Any]]]:
    """Entity argument -> its grounded entities ``[{name, namespace, identifier, canonical, method}]`` of a
    claim row (or its dict, or its id with ``engine``); ``{}`` when the claim has not been grounded yet."""
    if isinstance(claim, int):
        if engine is None:
            raise ValueError("claim_grounding needs the engine to read a claim by id")
        with Session(engine) as s:
            row = s.get(Claim, claim)
            grounding = row.grounding if row is not None else None
    else:
        grounding = claim.get("grounding") if isinstance(claim, dict) else claim.grounding
    return dict((grounding or {}).get("args") or {})
