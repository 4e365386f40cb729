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
    nodes = [n for n in _nodes(html) if n["id"] != "ctx"]
    assert [n["id"] for n in nodes] == [f"v{i}" for i in range(len(expl.nodes))]
    levels = [n["level"] for n in nodes]
    assert levels == sorted(levels) and levels[-1] >= 59  # a chain: one layer per step
    assert '"direction": "LR"' in html and re.search(r'"physics":\s*\{\s*"enabled":\s*false', html)
    assert next(n for n in nodes if n["title"].startswith('inhibits(id="n5"'))["color"]["background"] == "#c62828"
    # a second graph reuses the rendered page but carries its own data
    assert len(_nodes(action_graph_html(_chain(3)))) == 4


def test_graphml_round_trip_keeps_primitive_and_verdict():
    g = to_networkx(_chain(4), {"n2": "supported"}, prefix="t1:")
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    back = nx.read_graphml(io.BytesIO(buf.getvalue()))
    assert back.nodes["t1:n2"]["primitive"] == "inhibits" and back.nodes["t1:n2"]["verdict"] == "supported"
    assert back.has_edge("t1:n1", "t1:n2")
