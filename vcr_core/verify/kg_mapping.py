"""Which PrimeKG relations can confirm (or contradict) which primitive.

| primitive | entity pair checked | supporting relations | contradicting relations |
|---|---|---|---|
| binds_to | actor - target | target, enzyme, carrier, transporter, ppi | - |
| degrades_or_stabilises | regulator - target | target, enzyme, ppi | - |
| converts_substrate | enzyme - substrate, enzyme - product | enzyme | - |
| modulates_complex | members (each pair) | ppi | - |
| cell_cell_interaction | ligand - receptor | ppi | - |
| participates_in | entity - ontology_id | interacts with (gene - pathway / biological process / molecular function / cellular component) | - |
| induces_phenotype | source - phenotype | phenotype present, side effect, associated with | phenotype absent, indication |
| alleviates_phenotype | actor - phenotype | indication, off-label use | contraindication, side effect |
| correlates_with | entity_a - entity_b | associated with, ppi, expression present, phenotype present, linked to | - |
| similar_to | entity_a - entity_b | parent-child, synergistic interaction | - |

An edge with a supporting relation makes the claim *supported* (the edge is the evidence); an edge
with a contradicting relation makes it *contradicted*; both entities in the graph but no such edge
leaves it *unverifiable*: absence alone never contradicts. Relations are compared with both PrimeKG's
``relation`` and ``display_relation`` names, case-folded, with ``_`` read as a space.
"""
from __future__ import annotations

from itertools import combinations

from ..formalism import Node

KG_MAPPING: dict[str, dict] = {
    "binds_to": {"pairs": [("actor", "target")], "support": {"target", "enzyme", "carrier", "transporter", "ppi", "drug protein"}, "contradict": set()},
    "degrades_or_stabilises": {"pairs": [("regulator", "target")], "support": {"target", "enzyme", "ppi"}, "contradict": set()},
    "converts_substrate": {"pairs": [("enzyme", "substrate"), ("enzyme", "product")], "support": {"enzyme"}, "contradict": set()},
    "modulates_complex": {"pairs": "members", "support": {"ppi", "protein protein"}, "contradict": set()},
    "cell_cell_interaction": {"pairs": [("ligand", "receptor")], "support": {"ppi", "protein protein"}, "contradict": set()},
    "participates_in": {"pairs": [("entity", "ontology_id")], "support": {"interacts with", "bioprocess protein", "molfunc protein", "cellcomp protein", "pathway protein"}, "contradict": set()},
    "induces_phenotype": {"pairs": [("source", "phenotype")], "support": {"phenotype present", "side effect", "associated with", "disease protein", "disease phenotype positive", "drug effect"}, "contradict": {"phenotype absent", "indication", "disease phenotype negative"}},
    "alleviates_phenotype": {"pairs": [("actor", "phenotype")], "support": {"indication", "off-label use", "off label use"}, "contradict": {"contraindication", "side effect"}},
    "correlates_with": {"pairs": [("entity_a", "entity_b")], "support": {"associated with", "ppi", "expression present", "phenotype present", "linked to", "disease protein"}, "contradict": set()},
    "similar_to": {"pairs": [("entity_a", "entity_b")], "support": {"parent-child", "synergistic interaction", "disease disease", "drug drug"}, "contradict": set()},
}


def norm_relation(rel: str | None) -> str:
    return (rel or "").strip().lower().replace("_", " ")


def claim_pairs(node: Node) -> list[tuple[str, str]]:
    """The (name, name) pairs of a claim that the graph can check, per :data:`KG_MAPPING`."""
    spec = KG_MAPPING.get(node.action)
    if not spec:
        return []
    if spec["pairs"] == "members":
        members = node.args.get("members")
        names = [m for m in (members if isinstance(members, list) else [members]) if isinstance(m, str) and m.strip()]
        return list(combinations(names, 2))[:10]
    out = []
    for a, b in spec["pairs"]:
        va, vb = node.args.get(a), node.args.get(b)
        if isinstance(va, str) and isinstance(vb, str) and va.strip() and vb.strip():
            out.append((va.strip(), vb.strip()))
    return out
