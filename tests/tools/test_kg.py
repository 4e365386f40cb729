"""The knowledge graph: loaders (STaRK directory, kg.csv), matching routes, documents, subgraphs, tool."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from vcr_core.records.model import parse_records
from vcr_core.tools.base import ToolOptions
from vcr_core.tools.kg import CompactGraph, Matcher, load_kg_csv, load_stark, set_graph
from vcr_core.tools.kg.loaders import GraphUnavailable

NODES = [("imatinib", "drug", "DrugBank", "DB00619", {"synonyms": ["Gleevec"]}),
         ("ABL1", "gene/protein", "NCBI", "25", {"alias": ["ABL", "c-ABL"]}),
         ("chronic myeloid leukemia", "disease", "MONDO", "MONDO:0011996", None),
         ("KIT", "gene/protein", "NCBI", "3815", {"alias": ["CD117"]}),
         ("apoptotic process", "biological_process", "GO", "GO:0006915", None),
         ("BCR", "gene/protein", "NCBI", "613", None)]
TYPES = ["drug", "gene/protein", "disease", "biological_process"]
RELS = ["target", "ppi", "indication", "interacts with", "associated with"]
# undirected edges (a, b, relation)
EDGES = [(0, 1, "target"), (0, 3, "target"), (0, 2, "indication"), (1, 5, "ppi"), (1, 4, "interacts with"), (5, 2, "associated with")]


def _write_stark(d, fmt="pkl"):
    src = [a for a, b, _ in EDGES] + [b for a, b, _ in EDGES]
    dst = [b for a, b, _ in EDGES] + [a for a, b, _ in EDGES]
    rel = [RELS.index(r) for *_, r in EDGES] * 2
    torch.save(torch.tensor([src, dst], dtype=torch.long), d / "edge_index.pt")
    torch.save(torch.tensor(rel, dtype=torch.long), d / "edge_types.pt")
    torch.save(torch.tensor([TYPES.index(t) for _, t, *_ in NODES], dtype=torch.long), d / "node_types.pt")
    (d / "edge_type_dict.pkl").write_bytes(pickle.dumps(dict(enumerate(RELS))))
    (d / "node_type_dict.pkl").write_bytes(pickle.dumps(dict(enumerate(TYPES))))
    info = {i: {"id": ident, "type": t, "name": n, "source": s, "details": det or {}} for i, (n, t, s, ident, det) in enumerate(NODES)}
    if fmt == "pkl":
        (d / "node_info.pkl").write_bytes(pickle.dumps(info))
    else:
        (d / "node_info.json").write_text(json.dumps({str(k): v for k, v in info.items()}))


@pytest.fixture
def graph(tmp_path):
    _write_stark(tmp_path)
    g = load_stark(tmp_path)
    set_graph(g)
    return g


def test_stark_loader_pkl_and_json_and_cache(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _write_stark(tmp_path / "a", "pkl")
    _write_stark(tmp_path / "b", "json")
    for d in ("a", "b"):
        g = load_stark(tmp_path / d)
        assert g.n_nodes == 6 and g.n_edges == 12 and g.names[1] == "ABL1" and g.type_of(2) == "disease"
        assert sorted(g.relation_names[r] for r in g.edges_between(0, 1)) == ["target"]
        assert g.nbr.dtype == np.int32 and g.indptr.shape == (7,)
    again = load_stark(tmp_path / "a")  # from the binary cache
    assert again.names == load_stark(tmp_path / "a").names


def test_kg_csv_loader(tmp_path):
    rows = ["x_index,x_id,x_type,x_name,x_source,relation,display_relation,y_index,y_id,y_type,y_name,y_source"]
    for a, b, r in EDGES:
        for x, y in ((a, b), (b, a)):
            rows.append(f"{x},{NODES[x][3]},{NODES[x][1]},{NODES[x][0]},{NODES[x][2]},{r},{r},{y},{NODES[y][3]},{NODES[y][1]},{NODES[y][0]},{NODES[y][2]}")
    (tmp_path / "kg.csv").write_text("\n".join(rows))
    g = load_kg_csv(tmp_path / "kg.csv")
    assert g.n_nodes == 6 and g.n_edges == 12 and "PrimeKG kg.csv" in g.origin


def test_unavailable_messages(tmp_path):
    with pytest.raises(GraphUnavailable, match="missing edge_index.pt"):
        load_stark(tmp_path)
    with pytest.raises(GraphUnavailable, match="does not exist"):
        load_kg_csv(tmp_path / "nope.csv")


def test_every_matching_route(graph, tmp_path):
    mondo = {"graphs": [{"nodes": [{"lbl": "chronic myeloid leukemia", "meta": {"synonyms": [{"val": "CML"}]}}]}]}
    (tmp_path / "mondo.json").write_text(json.dumps(mondo))
    xml = ('<?xml version="1.0"?><drugbank xmlns="http://www.drugbank.ca"><drug><drugbank-id primary="true">DB00619</drugbank-id>'
           '<name>Imatinib</name><synonyms><synonym>STI-571</synonym></synonyms></drug></drugbank>')
    (tmp_path / "drugbank.xml").write_text(xml)
    m = Matcher(graph, tmp_path / "mondo.json", tmp_path / "drugbank.xml")
    route = lambda name: (m.lookup(name)[0].name, m.lookup(name)[0].method)  # noqa: E731
    assert route("IMATINIB") == ("imatinib", "exact")
    assert route("CML") == ("chronic myeloid leukemia", "mondo_synonym")
    assert route("DB00619") == ("imatinib", "drugbank_id")
    assert route("STI-571") == ("imatinib", "drugbank_synonym")
    assert route("Gleevec") == ("imatinib", "synonym")
    assert route("c-ABL") == ("ABL1", "alias")
    hit = m.lookup("apoptotic proces")[0]
    assert hit.name == "apoptotic process" and hit.method == "approximate" and hit.score < 1


def test_subgraph_shortest_paths(graph):
    assert graph.shortest_path(0, 5) == [0, 1, 5] or graph.shortest_path(0, 5) == [0, 2, 5]
    assert len(graph.shortest_path(3, 4)) == 4  # KIT - imatinib - ABL1 - apoptotic process
    nodes, edges = graph.steiner_subgraph([3, 4, 5])
    assert {3, 4, 5} <= nodes and len(edges) >= 3


def test_tool_documents_caps_and_subgraph(graph):
    from vcr_core.tools.base import run_tools
    rec = parse_records([{"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukemia"},
                          "perturbation": {"name": "imatinib", "target": ["ABL1", "KIT"]}}])[0][0]
    res = run_tools(rec, ["kg-ner", "kg-ner-subgraph"], ToolOptions(kg_with_rel=True), timeout_s=30)
    doc = res["kg-ner"]
    assert doc.status == "ok" and doc.prompt_text.startswith("KNOWLEDGE GRAPH INFORMATION")
    assert "at most 10 neighbours per relation and type" in doc.prompt_text and "target -> gene/protein" in doc.prompt_text
    assert {m["name"] for m in doc.evidence["matches"]} >= {"imatinib", "ABL1", "KIT", "chronic myeloid leukemia"}
    assert {"source": "imatinib", "target": "ABL1", "relation": "target"} in doc.evidence["edges"]
    sub = res["kg-ner-subgraph"]
    assert "SUBGRAPH CONNECTIONS" in sub.prompt_text and sub.evidence["edges"]


def test_starter_graph_on_a_small_slice():
    from vcr_core.tools.kg.starter import build_starter
    g = build_starter(limit=300, save=False)
    types = {g.type_of(i) for i in range(g.n_nodes)}
    assert {"gene/protein", "disease", "effect/phenotype", "drug"} <= types
    assert "parent-child" in {g.relation_names[r] for r in set(g.rel.tolist())}
    assert "no drug-target edges" in g.origin
    drugs = [i for i in range(g.n_nodes) if g.type_of(i) == "drug"]
    assert any((g.details[i] or {}).get("roles") for i in drugs)  # ChEBI roles ride on drug nodes


def test_chebi_roles_of_real_drugs():
    from vcr_core.tools.kg.starter import chebi_roles
    roles = chebi_roles()
    assert roles["DB00619"][0] == "CHEBI:45783" and "tyrosine kinase inhibitor" in roles["DB00619"][1]  # imatinib
    assert "angiogenesis inhibitor" in roles["DB09079"][1]  # nintedanib


def test_cli_tools_and_kg_info(graph, capsys):
    from vcr_core.cli.main import main
    assert main(["kg", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["nodes"] == 6 and info["nodes_by_type"]["gene/protein"] == 3
    assert main(["tools", "--json"]) == 0
    tools = json.loads(capsys.readouterr().out)
    assert tools["kg-ner"]["available"] and not tools["wikipedia"]["available"]


def test_graph_cache_half_written_by_another_process_is_built_again(tmp_path):
    """The app, its workers and the CLI share the cache folder: a truncated file is rebuilt, not an error."""
    import numpy as np

    builds = []

    def build():
        builds.append(1)
        return CompactGraph.from_edges(["A", "B"], np.array([0, 0]), ["gene"], np.array([0]), np.array([1]),
                                       np.array([0]), ["interacts"], origin="tiny")

    path = tmp_path / "kg" / "g"
    assert CompactGraph.cached(path, build).n_nodes == 2 and len(builds) == 1
    assert CompactGraph.cached(path, build).origin == "tiny" and len(builds) == 1  # read back, not rebuilt
    path.with_suffix(".pkl").write_bytes(b"\x80\x05")  # what a reader saw mid-write before saves were atomic
    assert CompactGraph.cached(path, build).n_nodes == 2 and len(builds) == 2
    assert not list(path.parent.glob("*.tmp"))  # no temporary file is left behind
