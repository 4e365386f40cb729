"""Claim hashing: stable under rewording, sensitive to direction, target and context."""
from vcr_core.formalism import Node, claim_hash

CTX = {"cell": "HUVEC", "perturbation": "nintedanib"}


def test_equal_for_reworded_but_equal_claims():
    a = Node(id="n1", action="modulates_molecule_activity", args={"target": "KDR", "direction": "down"}, via="n0")
    b = Node(id="step7", action="modulates_molecule_activity", args={"target": "  kdr ", "direction": "DOWN"},
             via="ATP pocket", confidence=0.4)
    assert claim_hash(a, CTX) == claim_hash(b, CTX)


def test_list_order_and_case_do_not_matter():
    a = Node(id="n1", action="regulates_expression", args={"regulator": "ERK", "gene_list": ["EGR1", "FOS"], "direction": "down"})
    b = Node(id="n2", action="regulates_expression", args={"regulator": "erk", "gene_list": ["fos", "EGR1"], "direction": "down"})
    assert claim_hash(a, CTX) == claim_hash(b, CTX)


def test_changed_direction_or_target_changes_hash():
    base = Node(id="n1", action="modulates_molecule_activity", args={"target": "KDR", "direction": "down"})
    up = base.model_copy(update={"args": {"target": "KDR", "direction": "up"}})
    other = base.model_copy(update={"args": {"target": "FLT1", "direction": "down"}})
    assert len({claim_hash(base, CTX), claim_hash(up, CTX), claim_hash(other, CTX)}) == 3


def test_context_changes_hash_and_grounding_unifies_names():
    node = Node(id="n1", action="binds_to", args={"actor": "Gleevec", "target": "ABL1"})
    alias = Node(id="n1", action="binds_to", args={"actor": "imatinib", "target": "ABL1"})
    assert claim_hash(node, CTX) != claim_hash(node, {"cell": "K562"})
    grounder = {"gleevec": "CHEBI:45783", "imatinib": "CHEBI:45783"}.get
    assert claim_hash(node, CTX, lambda s: grounder(s.lower())) == claim_hash(alias, CTX, lambda s: grounder(s.lower()))
