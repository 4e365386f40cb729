"""The knowledge-graph verifier: a claim whose primitive maps onto PrimeKG relations is checked
for the edge (see :mod:`.kg_mapping` for the table)."""
from __future__ import annotations

from typing import Any, Callable

from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict
from .evidence import KgEdge, KgEdgeSkipped, KgPairsChecked, SourcesConsulted
from .kg_mapping import KG_MAPPING, claim_pairs, norm_relation

NAME, VERSION = "kg", "2"
MIN_MATCH_SCORE = 0.9
# Edges between an entity and an HPO phenotype with these relations are HPO's own annotations (in the
# starter graph and in PrimeKG alike). The phenotype verifier judges them, knowing the claim's level
# (cell or patient), so they are left out here: one fact is counted once.
HPO_RELATIONS = {"associated with", "phenotype present", "phenotype absent", "disease phenotype positive",
                 "disease phenotype negative"}
PHENOTYPE_ACTIONS = {"induces_phenotype", "alleviates_phenotype"}


def _attr(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


class KgVerifier:
    """Looks for a supporting or contradicting edge between the claim's entities."""

    name, version = NAME, VERSION

    def __init__(self, lookup: Callable | None = None, edges_between: Callable | None = None,
                 graph_label: str | None = None) -> None:
        self._lookup, self._edges, self.graph_label = lookup, edges_between, graph_label
        self.problem: str | None = None
        if lookup is None or edges_between is None:
            try:
                from ..tools.kg import api
                self._lookup = self._lookup or api.lookup
                self._edges = self._edges or api.edges_between
                info = api.graph_info()
                self.graph_label = self.graph_label or str(info.get("source") or info.get("name") or "knowledge graph")
            except Exception as exc:  # noqa: BLE001 - no graph: every claim is unverifiable, with the reason
                self.problem = f"the knowledge graph is not available ({exc})"

    def applies(self, node) -> bool:
        return node.action in KG_MAPPING and bool(claim_pairs(node))

    def _match(self, name: str) -> list[Any]:
        hits = self._lookup(name, None, 3) or []
        return [h for h in hits if float(_attr(h, "score") or 0) >= MIN_MATCH_SCORE]

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        if self.problem:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], self.problem)
        spec = KG_MAPPING[ctx.node.action]
        support, contra = spec["support"], spec["contradict"]
        found_support, found_contra, missing, checked, skipped = [], [], [], [], []
        for a, b in claim_pairs(ctx.node):
            ma, mb = self._match(a), self._match(b)
            if not ma or not mb:
                missing += [n for n, m in ((a, ma), (b, mb)) if not m]
                continue
            checked.append(f"{a} - {b}")
            for na in ma[:2]:
                for nb in mb[:2]:
                    for e in self._edges(_attr(na, "index"), _attr(nb, "index")) or []:
                        rels = {norm_relation(e.get("relation")), norm_relation(e.get("display_relation"))}
                        edge = {"source": _attr(na, "name"), "target": _attr(nb, "name"), "graph": self.graph_label,
                                "relation": e.get("display_relation") or e.get("relation"), "edge_source": e.get("source")}
                        item = KgEdge(**edge).store()
                        if (ctx.node.action in PHENOTYPE_ACTIONS and rels & HPO_RELATIONS
                                and "HPO" in {str(_attr(na, "source")), str(_attr(nb, "source"))}):
                            skipped.append(KgEdgeSkipped(**edge,
                                                         note="an HPO annotation: judged by the phenotype verifier, counted once").store())
                            continue
                        if rels & support:
                            found_support.append(item)
                        elif rels & contra:
                            found_contra.append(item)
        if found_contra and not found_support:
            return ClaimVerdict(CONTRADICTED, 0.8, found_contra, f"the graph has {found_contra[0]['relation']!r} between "
                                f"{found_contra[0]['source']} and {found_contra[0]['target']}")
        if found_support:
            return ClaimVerdict(SUPPORTED, 0.9, found_support + found_contra,
                                f"edge {found_support[0]['source']} -{found_support[0]['relation']}-> {found_support[0]['target']}")
        if missing and not checked:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [SourcesConsulted(sources=[self.graph_label])],
                                f"not in the graph ({self.graph_label}): {', '.join(sorted(set(missing)))}")
        if skipped:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [KgPairsChecked(pairs=checked).store()] + skipped[:5],
                                f"the only edges in {self.graph_label} are HPO annotations, which the phenotype verifier judges")
        return ClaimVerdict(UNVERIFIABLE, 0.0, [KgPairsChecked(pairs=checked, graph=self.graph_label)],
                            f"both entities are in {self.graph_label} but no matching edge (absence alone never contradicts)")
