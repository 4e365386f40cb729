"""GO (and other ontology) ids in claims match their graph nodes: starter-style 'GO:...' ids and PrimeKG's bare digits."""
from __future__ import annotations

import numpy as np

from vcr_core.tools.kg import CompactGraph, Matcher
from vcr_core.tools.kg.match import node_curie


def _graph():
    names = ["histone deacetylase complex", "apoptotic process", "Seizure", "TP53"]
    types = ["cellular_component", "biological_process", "effect/phenotype", "gene/protein"]
    return CompactGraph.from_edges(names, np.array([0, 1, 2, 3]), types, np.array([3]), np.array([1]), np.array([0]),
                                   ["interacts with"], sources=["GO", "GO", "HPO", "HGNC"],
                                   ids=["GO:0000118", "6915", "HP:0001250", "HGNC:11998"], details=[None] * 4, symmetric=True)


def test_go_ids_match_their_nodes():
    m = Matcher(_graph())
    hit = m.lookup("GO:0000118")
    assert hit and hit[0].name == "histone deacetylase complex" and hit[0].method == "ontology_id" and hit[0].score == 1.0
    assert m.lookup("go_0006915")[0].name == "apoptotic process"  # PrimeKG stores GO ids as bare digits
    assert m.lookup("HP:0001250")[0].name == "Seizure"
    assert m.lookup("GO:0000118", types=["gene/protein"]) == []
    assert m.lookup("GO:9999999") == []
    assert m.lookup("HGNC:11998") == []  # only ontology sources get the id route


def test_node_curie():
    assert node_curie("GO", "118") == "GO:0000118" and node_curie("HPO", "HP:0001250") == "HP:0001250"
    assert node_curie("DrugBank", "DB00619") is None and node_curie("GO", "name") is None
