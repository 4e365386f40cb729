"""Deterministic claim hashes: the same claim in the same context hashes the same, whatever the
node id, the wording of ``via``, letter case or white space; a changed direction or target changes it."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any, Callable

from .catalogue import META_ARGS
from .model import Node
from .typed import claim_model

Grounder = Callable[[str], "str | None"]


def normalise_text(text: str) -> str:
    """Unicode-normalise, case-fold and collapse white space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalise_value(value: Any, grounder: Grounder | None = None) -> Any:
    """Canonical form of an argument value; entity names go through ``grounder`` when given."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else round(float(value), 9)
    if isinstance(value, str):
        text = normalise_text(value)
        grounded = grounder(value) if grounder else None
        return grounded or text
    if isinstance(value, (list, tuple)):
        items = [normalise_value(v, grounder) for v in value]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, ensure_ascii=False))
    if isinstance(value, dict):
        return {normalise_text(str(k)): normalise_value(v, grounder) for k, v in value.items()}
    return normalise_text(str(value))


def normalise_context(context: dict[str, Any] | None) -> dict[str, Any]:
    if not context:
        return {}
    return {normalise_text(k): normalise_value(v) for k, v in context.items() if v not in (None, "", [])}


def claim_key(node: Node, context: dict[str, Any] | None = None, grounder: Grounder | None = None) -> dict[str, Any]:
    """The canonical content a claim hash is built from. ``grounder`` applies to the arguments that
    take genes/proteins (their kinds in primitives.json), so "VEGFR2" and "KDR" hash the same while
    free text ("mechanism") is only normalised."""
    model = claim_model(node.action)  # the argument kinds of the claim's typed model (primitives.json)
    args = {k: normalise_value(v, grounder if model is not None and "gene" in model.kinds(k) else None)
            for k, v in node.args.items() if k not in META_ARGS and v not in (None, "", [])}
    return {"action": node.action.strip().lower(), "args": args, "context": normalise_context(context)}


def claim_hash(node: Node, context: dict[str, Any] | None = None, grounder: Grounder | None = None) -> str:
    """SHA-256 (hex) of the claim's primitive, normalised arguments and context."""
    payload = json.dumps(claim_key(node, context, grounder), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
