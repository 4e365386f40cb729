"""The entity verifier: every entity a claim names should ground to an identifier.

Grounding comes from preprocessing's vocabularies (``vcr_core.preprocess.ground``) and the loaded
knowledge graph (``vcr_core.tools.kg.api.lookup``). Unknown names are reported with the graph's
nearest candidates. A gene-valued argument (``gene_list``, ``protein``, ``rna_id``) whose name
grounds confidently, and only, to something that is not a gene contradicts the claim. Because a
name that grounds says nothing about whether the claim is true, this verifier's ``supported`` does
not count as support in the filter policy (see ``policy.SUPPORT_VERIFIERS``).
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict, entity_names

NAME, VERSION = "entity", "1"
GENE_ARGS = {"gene_list", "protein", "rna_id"}
GENE_TYPES = {"gene", "gene/protein", "protein"}
CONFIDENT = {"exact", "alias", "synonym", "drugbank", "mondo", "name", "dictionary"}


def _default_grounder() -> Callable[[str, str | None], Any] | None:
    try:
        from ..preprocess import ground
    except ImportError:
        return None
    return ground


def _default_lookup() -> Callable[..., list] | None:
    try:
        from ..tools.kg import api
    except ImportError:
        return None
    return api.lookup


def _attr(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


class EntityVerifier:
    """Checks that each named entity grounds; reports candidates for the ones that do not."""

    name, version = NAME, VERSION

    def __init__(self, grounder: Callable | None = None, kg_lookup: Callable | None = None) -> None:
        self.grounder = grounder if grounder is not None else _default_grounder()
        self.kg_lookup = kg_lookup if kg_lookup is not None else _default_lookup()
        self._trace_memo: dict[str, tuple[dict | None, list[dict]]] = {}
        self._memo_trace: int | None = None
        self._memo_lock = threading.Lock()  # verifier objects may be shared by worker threads

    def applies(self, node) -> bool:
        return bool(entity_names(node))

    def _ground(self, name: str) -> tuple[dict | None, list[dict]]:
        """(confident grounding, other candidates) for one name."""
        hits: list[dict] = []
        if self.grounder is not None:
            try:
                g = self.grounder(name, None)
            except Exception:  # noqa: BLE001 - a vocabulary problem makes the name unverifiable, not the run
                g = None
            if g is not None:
                hits.append({"source": "vocabulary", "name": _attr(g, "canonical") or name, "type": _attr(g, "type"),
                             "namespace": _attr(g, "namespace"), "identifier": _attr(g, "identifier"), "method": "dictionary",
                             "score": 1.0})
        if self.kg_lookup is not None:
            try:
                for m in self.kg_lookup(name, None, 3) or []:
                    hits.append({"source": "knowledge graph", "name": _attr(m, "name"), "type": _attr(m, "type"),
                                 "identifier": _attr(m, "source"), "method": _attr(m, "method"),
                                 "score": float(_attr(m, "score") or 0)})
            except Exception:  # noqa: BLE001
                pass
        confident = [h for h in hits if (h["method"] in CONFIDENT or h["score"] >= 0.97)]
        return (confident[0] if confident else None), [h for h in hits if h not in confident]

    # --- one grounding per name per trace (issue 11 speed; kept apart from the grounding rules above) ---
    def _ground_once(self, trace_id: int | None, name: str) -> tuple[dict | None, list[dict]]:
        """:meth:`_ground`, computed once per name within a trace (a trace names the same entities in
        many claims); the memo holds one trace at a time. Copies are handed out, as evidence rows."""
        if trace_id is None:
            return self._ground(name)
        with self._memo_lock:
            hit = self._trace_memo.get(name) if self._memo_trace == trace_id else None
        if hit is None:
            hit = self._ground(name)
            with self._memo_lock:
                if self._memo_trace != trace_id:  # a new trace: forget the previous one
                    self._trace_memo, self._memo_trace = {}, trace_id
                self._trace_memo[name] = hit
        best, candidates = hit
        return (dict(best) if best is not None else None), [dict(c) for c in candidates]
    # --- end of the per-trace memo ---

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        if self.grounder is None and self.kg_lookup is None:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], "no vocabulary or knowledge graph is available to ground names")
        evidence, unknown, wrong_type = [], [], []
        for arg, name in entity_names(ctx.node):
            best, candidates = self._ground_once(ctx.trace_id, name)
            row = {"argument": arg, "name": name, "grounding": best, "candidates": candidates[:3]}
            evidence.append(row)
            if best is None:
                unknown.append(name)
            elif arg in GENE_ARGS and str(best.get("type") or "").lower() not in GENE_TYPES and best.get("type"):
                wrong_type.append(f"{name} ({best['type']})")
        if wrong_type:
            return ClaimVerdict(CONTRADICTED, 0.7, evidence, f"named as a gene but grounds to something else: {', '.join(wrong_type)}")
        if unknown:
            return ClaimVerdict(UNVERIFIABLE, 0.0, evidence, f"not grounded: {', '.join(unknown)}")
        return ClaimVerdict(SUPPORTED, 1.0, evidence, "every entity grounds to an identifier")
