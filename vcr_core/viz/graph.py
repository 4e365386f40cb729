"""An action graph as an interactive vis-network page, and as a networkx graph (for GraphML).

The page is our own short template around the vis-network library that pyvis ships (read from the
installed pyvis package and inlined, so the graph works offline, with no CDN). Everything shown comes
from model output, so it is treated as hostile text:

* node ids are generated (``v0``, ``v1``, ...), never the model's ids;
* labels are drawn on the canvas (never parsed as HTML); tooltips are plain strings, which vis-network
  shows as text (the word "href" is broken with a zero-width space all the same);
* the data reaches the page only through :func:`_tojson`, the serializer, which escapes ``<``, ``>``,
  ``&`` and ``'`` (as Jinja's ``tojson``), so nothing a model wrote can close the script block.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import networkx as nx

from ..formalism import Explanation, catalogue, node_to_text

VERDICT_COLORS = {"supported": "#2e7d32", "contradicted": "#c62828", "unverifiable": "#9e9e9e", None: "#90a4ae"}
_HREF = re.compile("href", re.IGNORECASE)


def safe_text(text: Any, limit: int = 2000) -> str:
    """Model text made safe for a pyvis tooltip or label (plain text, no 'href' switch, bounded)."""
    s = "" if text is None else str(text)
    s = _HREF.sub(lambda m: m.group(0)[:2] + "\u200b" + m.group(0)[2:], s)
    return s[:limit]


def _label(action: str, args: dict[str, Any]) -> str:
    main = [str(v if not isinstance(v, list) else ", ".join(map(str, v[:3])) + ("…" if len(v) > 3 else ""))
            for k, v in args.items() if k not in ("direction", "evidence_type", "mechanism") and v not in (None, "")][:2]
    arrow = {"up": " ↑", "down": " ↓"}.get(str(args.get("direction", "")).lower(), "")
    return f"{action}{arrow}\n" + "\n".join(m if len(m) <= 26 else m[:25] + "…" for m in main)


def _layers(expl: Explanation) -> dict[str, int]:
    """Longest-path depth of each node (cycles tolerated), for the left-to-right layout."""
    ids = [n.id for n in expl.nodes]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for e in expl.edges:
        if e.source in preds and e.target in preds and e.source != e.target:
            preds[e.target].append(e.source)
    depth: dict[str, int] = {}
    for _ in range(len(ids) + 1):  # bounded relaxation: a cycle cannot loop forever
        changed = False
        for i in ids:
            d = max((depth.get(p, 0) + 1 for p in preds[i]), default=0)
            if depth.get(i) != d and d <= len(ids):
                depth[i], changed = d, True
        if not changed:
            break
    return depth


OPTIONS = ('{"layout": {"hierarchical": {"enabled": true, "direction": "LR", "sortMethod": "directed", '
           '"levelSeparation": 260, "nodeSpacing": 120}}, "physics": {"enabled": false}, '
           '"interaction": {"hover": true, "tooltipDelay": 120}, "edges": {"smooth": {"type": "cubicBezier"}}}')


@lru_cache(maxsize=1)
def _vis_library() -> str:
    """The vis-network script bundled with pyvis (read once)."""
    from importlib import resources

    return resources.files("pyvis").joinpath("lib", "vis-9.1.2", "vis-network.min.js").read_text("utf-8")


# Only the tooltip needs a style (vis-network's own 220 KB stylesheet is for editing tools we do not show).
_CSS = ("html,body{margin:0} #graph{width:100%;box-sizing:border-box;border:1px solid #e0e0e0} div.vis-tooltip{position:absolute;"
        "visibility:hidden;padding:6px;white-space:pre-wrap;max-width:480px;font:13px sans-serif;color:#000;"
        "background:#f5f4ed;border:1px solid #808074;border-radius:3px;box-shadow:3px 3px 10px rgba(0,0,0,.2);"
        "pointer-events:none;z-index:5}")

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>{css} #graph{{height:{height}}}</style><script>{js}</script></head>
<body><div id="graph"></div><script>
var nodes = new vis.DataSet({nodes});
var edges = new vis.DataSet({edges});
new vis.Network(document.getElementById("graph"), {{nodes: nodes, edges: edges}}, {options});
</script></body></html>"""


def _page(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], height: str) -> str:
    js = _vis_library()
    if not re.fullmatch(r"\d+(px|%|vh)", height):
        raise ValueError(f"height must look like '520px', not {height!r}")
    return _PAGE.format(css=_CSS, js=js, height=height, nodes=_tojson(nodes), edges=_tojson(edges), options=OPTIONS)


def _colors(background: str, border: str) -> dict[str, Any]:
    """Node colours that stay the same on hover and selection (vis-network's default light blue would
    make the white label unreadable); only the border darkens."""
    return {"background": background, "border": border, "highlight": {"background": background, "border": "#000000"},
            "hover": {"background": background, "border": "#000000"}}


def _tojson(obj: Any) -> str:
    """JSON safe inside a <script> block (as Jinja's tojson): <, >, &, ' escaped."""
    return (json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("'", "\\u0027"))


def action_graph_html(expl: Explanation, verdicts: dict[str, dict[str, Any]] | None = None, *, height: str = "520px") -> str:
    """A self-contained HTML page with the interactive graph.

    ``verdicts`` maps node id -> {"effective": verdict, "lines": [tooltip lines]} (optional).
    Nodes are coloured by effective verdict; causal edges are solid, correlative edges dashed;
    the layout is layered left to right without physics, so it is fast and stable.
    """
    verdicts = verdicts or {}
    safe_ids = {n.id: f"v{i}" for i, n in enumerate(expl.nodes)}
    has_ctx = bool(expl.has_context and expl.context)
    depth = {k: v + 1 if has_ctx else v for k, v in _layers(expl).items()}  # the context stands alone on the left
    kinds = {name: p.kind for name, p in catalogue().items()}
    nodes: list[dict[str, Any]] = []
    for n in expl.nodes:
        info = verdicts.get(n.id, {})
        eff = info.get("effective")
        tip = [node_to_text(n), f"effective verdict: {eff or 'not verified'}"] + list(info.get("lines", []))
        nodes.append({"id": safe_ids[n.id], "label": safe_text(_label(n.action, n.args), 120), "title": safe_text("\n".join(tip)),
                      "level": depth.get(n.id, 0), "shape": "box" if kinds.get(n.action) != "annotation" else "ellipse",
                      "color": _colors(VERDICT_COLORS.get(eff, VERDICT_COLORS[None]), "#37474f" if info.get("curated") else "#ffffff"),
                      "borderWidth": 3 if info.get("curated") else 1, "widthConstraint": {"maximum": 210},
                      "font": {"color": "#ffffff", "face": "sans-serif", "size": 13}})
    if has_ctx:
        ctx_text = "context\n" + "\n".join(f"{k}: {v}" for k, v in list(expl.context.items())[:3])
        nodes.append({"id": "ctx", "label": safe_text(ctx_text, 160), "title": safe_text(ctx_text), "level": 0, "shape": "box",
                      "color": {"background": "#eceff1", "border": "#b0bec5"}, "font": {"color": "#263238"}})
    edges: list[dict[str, Any]] = []
    for e in expl.edges:
        src = safe_ids.get(e.source) or ("ctx" if e.source == expl.context_id and expl.context else None)
        dst = safe_ids.get(e.target)
        if src and dst:
            correlative = e.relation == "correlative"
            edges.append({"from": src, "to": dst, "dashes": correlative, "color": "#7e57c2" if correlative else "#455a64",
                          "title": safe_text(e.relation), "arrows": "to", "width": 2})
    return _page(nodes, edges, height)


def to_networkx(expl: Explanation, verdicts: dict[str, str | None] | None = None, prefix: str = "") -> nx.DiGraph:
    """A networkx DiGraph with primitive, arguments (as text) and verdict on each node."""
    verdicts = verdicts or {}
    g = nx.DiGraph()
    for n in expl.nodes:
        g.add_node(prefix + n.id, label=n.action, primitive=n.action, text=node_to_text(n), verdict=verdicts.get(n.id) or "")
    for e in expl.edges:
        if e.source in {n.id for n in expl.nodes} and e.target in {n.id for n in expl.nodes}:
            g.add_edge(prefix + e.source, prefix + e.target, relation=e.relation)
    return g
