"""The stored grounding of the claim being verified, for the resolvers to read instead of resolving again.

A claim's grounding is stored with it (``claim.grounding``: per entity argument, each name's namespace,
identifier, canonical name and method; a curator's re-grounding is marked ``curator``). The verify
runner opens :func:`stored_grounding` around each verifier's call on a claim, and the shared resolvers
(``knowledge.genes`` for gene, protein and family names, ``preprocess.grounding.ground`` for the NER
vocabularies) ask :func:`stored_entity` first. So every verifier reads the stored grounding without a
line of its own changing, and the runner records which stored groundings were read
(:meth:`GroundingUse.used`) to say so in the verdict's evidence.

This lives in the kernel (a context variable, no imports) because the resolvers sit in lower layers
than the verifiers that open it.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# Namespaces of gene, protein and family identifiers (the gene resolver's answers).
GENE_NAMESPACES = frozenset({"HGNC", "FPLX", "NCBIGene"})


@dataclass
class GroundingUse:
    """The stored grounding of one claim (name -> entity) and which of its entities a resolver read."""

    by_name: dict[str, dict[str, Any]]
    used: list[dict[str, Any]] = field(default_factory=list)

    def note(self, entity: dict[str, Any]) -> None:
        if entity not in self.used:
            self.used.append(entity)


_CURRENT: ContextVar[GroundingUse | None] = ContextVar("vcr_stored_grounding", default=None)


def by_name(args: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Name -> grounded entity of a claim's stored grounding args (``{arg: [entity, ...]}``); a curator's
    entity wins over an automatic one for the same name, and each entity keeps its argument."""
    out: dict[str, dict[str, Any]] = {}
    for arg, entities in (args or {}).items():
        for e in entities or []:
            if not isinstance(e, dict) or not str(e.get("name") or "").strip():
                continue
            key = str(e["name"]).strip()
            if key not in out or (e.get("curator") and not out[key].get("curator")):
                out[key] = {**e, "argument": arg}
    return out


@contextmanager
def stored_grounding(args: Mapping[str, Any] | None) -> Iterator[GroundingUse]:
    """Make a claim's stored grounding (``claim.grounding["args"]``) the one resolvers read meanwhile."""
    use = GroundingUse(by_name(args))
    token = _CURRENT.set(use)
    try:
        yield use
    finally:
        _CURRENT.reset(token)


@contextmanager
def suspended() -> Iterator[None]:
    """Resolve names afresh meanwhile (computing a grounding must not read the one being replaced)."""
    token = _CURRENT.set(None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def stored_entity(name: str) -> dict[str, Any] | None:
    """The stored grounding of ``name`` in the claim being verified (None outside verification, for a
    name the claim does not ground, or one stored as plain text); the caller notes it with :func:`note_used`."""
    use = _CURRENT.get()
    if use is None or not isinstance(name, str):
        return None
    e = use.by_name.get(name.strip())
    if e is None or e.get("namespace") in (None, "", "text"):
        return None
    return e


def note_used(entity: dict[str, Any]) -> None:
    """Record that a resolver answered from ``entity`` (a stored grounding), for the verdict's evidence."""
    use = _CURRENT.get()
    if use is not None:
        use.note(entity)
