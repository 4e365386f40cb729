"""The action-graph page: layered layout, one generated id per node, and GraphML of the same graph."""
from __future__ import annotations

import io
import json
import re

import networkx as nx

from vcr_core.formalism import parse_text
from vcr_core.viz.graph import action_graph_html, to_networkx


def _chain(n: int):
    lines = ['set_context(cell_type="A549")', 'binds_to(id="n1", actor="drugX", target="G1")']
    lines += [f'inhibits(id="n{i}", actor="G{i - 1}", target="G{i}", via="n{i - 1}")' for i in range(2, n + 1)]
    dag = [f'edge("n{i - 1}", "n{i}")' for i in range(2, n + 1)]
    return parse_text("<explain>\n" + "\n".join(lines) + "\n</explain>\n<dag>\n" + "\n".join(dag) + "\n</dag>").explanation


def _nodes(html: str) -> list[dict]:
    raw = html.split("nodes = new vis.DataSet(")[1].split(");")[0]
    return json.loads(raw)


def test_sixty_node_graph_is_layered_left_to_right():
    expl = _chain(60)
    html = action_graph_html(expl, {"n5": {"effective": "contradicted", "lines": []}})
    nodes = _nodes(html)
    assert [n["id"] for n in nodes] == [f"v{i}" for i in range(len(expl.nodes))]
    levels = [n["level"] for n in nodes]
    assert levels == sorted(levels) and levels[-1] >= 59  # a chain: one layer per step
    assert '"direction": "LR"' in html and re.search(r'"physics":\s*\{\s*"enabled":\s*false', html)
    assert next(n for n in nodes if n["title"].startswith('inhibits(id="n5"'))["color"]["background"] == "#c62828"
    # a second graph reuses the rendered page but carries its own data; the context is the header, not a node
    assert len(_nodes(action_graph_html(_chain(3)))) == 3


def test_graphml_round_trip_keeps_primitive_and_verdict():
    g = to_networkx(_chain(4), {"n2": "supported"}, prefix="t1:")
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    back = nx.read_graphml(io.BytesIO(buf.getvalue()))
    assert back.nodes["t1:n2"]["primitive"] == "inhibits" and back.nodes["t1:n2"]["verdict"] == "supported"
    assert back.has_edge("t1:n1", "t1:n2")


IMATINIB = """<explain>
set_context(cell_type="K562", disease="chronic myeloid leukemia")
binds_to(id="n1", actor="imatinib", target="ABL1")
modulates_molecule_activity(id="n2", target="ABL1", direction="down")
modulates_pathway_activity(id="n3", pathway="ERK1/2 cascade", direction="down")
participates_in(id="n4", entity="ABL1", ontology_id="GO:0043066", via="source: Gene Ontology: ABL1 annotated to GO:0043066 'negative regulation of apoptotic process' (IDA)")
induces_phenotype(id="n5", source="imatinib", phenotype="apoptosis")
induces_phenotype(id="n6", source="imatinib", phenotype="reduced cell migration")
regulates_expression(id="n7", regulator="ABL1", gene_list=["MYC", "CCND1"], direction="down")
</explain>
<dag>
edge("n1", "n2")
edge("n2", "n3")
edge("n3", "n5")
edge("n4", "n5")
edge("n2", "n7")
edge("n7", "n6")
</dag>"""


def _imatinib():
    return parse_text(IMATINIB).explanation


def _header(html: str) -> str:
    return json.loads(html.split('getElementById("ctx").textContent = ')[1].split(";\n")[0])


def test_nodes_read_as_biology_with_the_primitive_on_hover():
    from vcr_core.viz import biology_label

    expl = _imatinib()
    labels = {n.id: biology_label(n, expl) for n in expl.nodes}
    assert labels["n1"] == "imatinib ⊣ ABL1"  # a binding the graph says lowers the target's activity: inhibition
    assert labels["n2"] == "ABL1 activity ↓"
    assert labels["n3"] == "ERK1/2 cascade ↓"
    assert labels["n4"] == "ABL1 in negative regulation of apoptotic process"  # the GO term's name, not its id
    assert labels["n5"] == "apoptosis ↑" and labels["n6"] == "cell migration ↓"
    assert labels["n7"] == "MYC, CCND1 expression ↓"
    nodes = _nodes(action_graph_html(expl))
    assert nodes[0]["label"] == "imatinib ⊣ ABL1"
    assert nodes[0]["title"].startswith('binds_to(id="n1", actor="imatinib", target="ABL1")')  # the primitive on hover


def test_kind_sets_shape_and_border_beside_the_verdict_fill_and_context_is_the_header():
    expl = _imatinib()
    html = action_graph_html(expl, {"n1": {"effective": "supported", "lines": []}, "n5": {"effective": "supported", "lines": []}})
    nodes = {n["title"].split('"')[1]: n for n in _nodes(html)}  # by claim id (the title starts with the primitive)
    bind, pheno, expr = nodes["n1"], nodes["n5"], nodes["n7"]
    assert bind["color"]["background"] == pheno["color"]["background"] == "#2e7d32"  # same verdict, same fill
    assert (bind["shape"], bind["color"]["border"]) != (pheno["shape"], pheno["color"]["border"])  # different kinds
    assert expr["color"]["border"] not in (bind["color"]["border"], pheno["color"]["border"])
    assert all(n["font"]["size"] >= 14 for n in nodes.values())
    assert [n["level"] for n in _nodes(html)][:3] == [0, 1, 2]  # left to right by causal depth
    assert not any(n["id"] == "ctx" for n in _nodes(html))
    assert _header(html) == "K562 · chronic myeloid leukemia"


def test_hostile_context_and_labels_stay_text_in_the_page_and_the_svg():
    import xml.etree.ElementTree as ET

    from vcr_core.viz import action_graph_svg

    hostile = "<script>alert(1)</script>"
    expl = parse_text(IMATINIB.replace('cell_type="K562"', f'cell_type="{hostile}"').replace('actor="imatinib"', f'actor="{hostile}"')).explanation
    html = action_graph_html(expl)
    assert "<script>alert" not in html
    assert hostile in _header(html)  # shown by textContent: as typed
    svg = action_graph_svg(expl, {"n1": "supported"}, title=f"trace #1 · {hostile}")
    root = ET.fromstring(svg)  # well-formed: nothing a model wrote became markup
    ns = "{http://www.w3.org/2000/svg}"
    assert not root.findall(f".//{ns}script")
    texts = ["".join(t.itertext()) for t in root.iter(f"{ns}text")]
    assert f"trace #1 · {hostile}" in texts and any(hostile in t for t in texts)
    groups = root.findall(f"{ns}g")
    assert len(groups) == len(expl.nodes)
    assert {g.find(f"{ns}title").text.split("(")[0] for g in groups} >= {"binds_to", "induces_phenotype"}


def test_svg_columns_follow_causal_depth():
    import xml.etree.ElementTree as ET

    from vcr_core.viz import action_graph_svg

    root = ET.fromstring(action_graph_svg(_chain(5)))
    ns = "{http://www.w3.org/2000/svg}"
    xs = [float(g.find(f"{ns}text/{ns}tspan").get("x")) for g in root.findall(f"{ns}g")]
    assert xs == sorted(xs) and len(set(xs)) == 5
