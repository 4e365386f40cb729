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
from collections import Counter
from functools import lru_cache
from typing import Any

import networkx as nx

from ..formalism import Explanation, node_to_text

VERDICT_COLORS = {"supported": "#2e7d32", "contradicted": "#c62828", "unverifiable": "#9e9e9e", None: "#90a4ae"}
_HREF = re.compile("href", re.IGNORECASE)


def safe_text(text: Any, limit: int = 2000) -> str:
    """Model text made safe for a pyvis tooltip or label (plain text, no 'href' switch, bounded)."""
    s = "" if text is None else str(text)
    s = _HREF.sub(lambda m: m.group(0)[:2] + "\u200b" + m.group(0)[2:], s)
    return s[:limit]


# What kind of step each primitive is, as a biologist reads a mechanism: the node's shape and border
# colour (its fill stays the verdict colour).
KIND_OF = {
    "binds_to": "interaction", "modulates_complex": "interaction", "cell_cell_interaction": "interaction",
    "converts_substrate": "interaction",
    "modulates_molecule_activity": "activity", "post_translational_modification": "activity",
    "degrades_or_stabilises": "activity", "gain_of_function": "activity", "loss_of_function": "activity",
    "localises_to": "activity",
    "modulates_pathway_activity": "pathway", "participates_in": "pathway",
    "regulates_expression": "expression", "regulates_translation": "expression", "chromatin_modification": "expression",
    "induces_phenotype": "phenotype", "alleviates_phenotype": "phenotype",
    "similar_to": "association", "correlates_with": "association",
}
KIND_STYLE = {  # kind -> (vis-network shape, border colour, legend text)
    "interaction": ("box", "#1565c0", "entity interaction"),
    "activity": ("ellipse", "#ef6c00", "activity"),
    "pathway": ("box", "#6a1b9a", "pathway / process"),
    "expression": ("box", "#00838f", "expression"),
    "phenotype": ("ellipse", "#ad1457", "phenotype"),
    "association": ("box", "#616161", "association"),
}
ARROW = {"up": "↑", "down": "↓"}
FONT_PX = 16  # node label font size (px at scale 1)
MIN_SCALE = 0.8  # the initial fit never zooms out below this: labels stay >= FONT_PX * MIN_SCALE px on screen
LINE_CHARS = 24  # characters per label line
_GO_NAME = re.compile(r"(GO:\d{7})\s*'([^']{1,120})'")


def _txt(v: Any, limit: int = 60) -> str:
    if isinstance(v, list):
        s = ", ".join(map(str, v[:3])) + ("…" if len(v) > 3 else "")
    else:
        s = "" if v is None else str(v)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _arrow(args: dict[str, Any]) -> str:
    return ARROW.get(str(args.get("direction", "")).lower(), "")


def _phenotype(text: str, default: str) -> str:
    """'reduced cell migration' -> 'cell migration ↓'; 'apoptosis' -> 'apoptosis ↑' (induced)."""
    low = text.lower()
    for words, arrow in ((("reduced ", "decreased ", "less ", "loss of ", "inhibition of "), "↓"),
                         (("increased ", "enhanced ", "more ", "induced "), "↑")):
        for w in words:
            if low.startswith(w):
                return f"{text[len(w):]} {arrow}"
    return f"{text} {default}"


def biology_label(node: Any, expl: Explanation | None = None) -> str:
    """A claim as a biologist writes it: 'imatinib ⊣ ABL1', 'ABL1 activity ↓', 'ERK1/2 cascade ↓',
    'apoptosis ↑'. The primitive itself is in the tooltip. Plain text (drawn on a canvas or escaped)."""
    a, x = node.action, node.args
    arrow = _arrow(x)
    if a == "binds_to":
        actor, target = _txt(x.get("actor")), _txt(x.get("target"))
        # A binding the same explanation says lowers (raises) the target's activity reads as inhibition (activation).
        effect = {str(m.args.get("direction", "")).lower() for m in (expl.nodes if expl else [])
                  if m.action == "modulates_molecule_activity" and str(m.args.get("target")) == str(x.get("target"))}
        sign = "⊣" if effect == {"down"} else "→" if effect == {"up"} else "binds"
        return f"{actor} {sign} {target}"
    if a == "modulates_molecule_activity":
        return f"{_txt(x.get('target'))} activity {arrow}".strip()
    if a == "modulates_pathway_activity":
        return f"{_txt(x.get('pathway'))} {arrow}".strip()
    if a == "modulates_complex":
        return f"{_txt(x.get('complex'))} complex {arrow}".strip()
    if a in ("regulates_expression", "regulates_translation"):
        what = "expression" if a == "regulates_expression" else "translation"
        genes = x.get("gene_list") if a == "regulates_expression" else x.get("rna_id")
        return f"{_txt(genes)} {what} {arrow}".strip()
    if a == "post_translational_modification":
        return f"{_txt(x.get('protein'))} {_txt(x.get('mod_type'), 20)} {_txt(x.get('site'), 12)} {arrow}".replace("  ", " ").strip()
    if a == "localises_to":
        return f"{_txt(x.get('entity'))}: {_txt(x.get('from_loc'), 20)} → {_txt(x.get('to_loc'), 20)}"
    if a == "converts_substrate":
        return f"{_txt(x.get('enzyme'))}: {_txt(x.get('substrate'), 20)} → {_txt(x.get('product'), 20)}"
    if a == "degrades_or_stabilises":
        return f"{_txt(x.get('target'))} protein level {arrow}".strip()
    if a in ("gain_of_function", "loss_of_function"):
        kind = "gain of function" if a == "gain_of_function" else "loss of function"
        variant = _txt(x.get("variant"), 30)
        return f"{_txt(x.get('protein'))} {kind}" + (f" ({variant})" if variant else "")
    if a == "induces_phenotype":
        return _phenotype(_txt(x.get("phenotype"), 80), "↑")
    if a == "alleviates_phenotype":
        return f"{_txt(x.get('phenotype'), 80)} ↓ (alleviated)"
    if a == "similar_to":
        return f"{_txt(x.get('entity_a'))} ≈ {_txt(x.get('entity_b'))}"
    if a == "correlates_with":
        return f"{_txt(x.get('entity_a'))} ~ {_txt(x.get('entity_b'))}"
    if a == "participates_in":
        oid = _txt(x.get("ontology_id"), 30)
        named = _GO_NAME.search(str(node.via or ""))
        term = named.group(2) if named and named.group(1) == oid else oid
        return f"{_txt(x.get('entity'))} in {term}"
    if a == "cell_cell_interaction":
        return f"{_txt(x.get('sender'))} → {_txt(x.get('receiver'))} via {_txt(x.get('ligand'), 20)}–{_txt(x.get('receptor'), 20)}"
    if a == "chromatin_modification":
        return f"{_txt(x.get('mark'), 20)} at {_txt(x.get('locus'))} {arrow}".strip()
    main = [_txt(v) for k, v in x.items() if k not in ("direction", "evidence_type", "mechanism") and v not in (None, "")][:2]
    return f"{a} {arrow}: " + ", ".join(main) if main else a


def wrap_label(text: str, width: int = LINE_CHARS, max_lines: int = 3) -> list[str]:
    """``text`` in lines of at most ``width`` characters (words kept whole where they fit), at most
    ``max_lines`` (the last one ending in '…' when cut)."""
    lines: list[str] = []
    for word in text.split():
        while len(word) > width:
            lines.append(word[:width - 1] + "-")
            word = word[width - 1:]
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = (lines[-1][:width - 1] if len(lines[-1]) >= width else lines[-1]) + "…"
    return lines or [""]


def context_header(expl: Explanation) -> str:
    """The context the graph holds in, as one line ('K562 · chronic myeloid leukemia'), or ''."""
    if not (expl.has_context and expl.context):
        return ""
    return " · ".join(f"{_txt(v, 80)}" if k in ("cell_type", "disease") else f"{k.replace('_', ' ')}: {_txt(v, 80)}"
                      for k, v in list(expl.context.items())[:4] if v not in (None, "", []))


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


# Positions come from :func:`layout` (columns by causal depth, left to right: what vis-network's hierarchical
# layout with direction LR does, but compact, and the same picture as the SVG); no physics, so it is fast and stable.
OPTIONS = ('{"layout": {"hierarchical": {"enabled": false, "direction": "LR"}}, "physics": {"enabled": false}, '
           '"interaction": {"hover": true, "tooltipDelay": 120}, "edges": {"smooth": {"type": "cubicBezier", '
           '"forceDirection": "horizontal", "roundness": 0.4}}}')


@lru_cache(maxsize=1)
def _vis_library() -> str:
    """The vis-network script bundled with pyvis (read once)."""
    from importlib import resources

    return resources.files("pyvis").joinpath("lib", "vis-9.1.2", "vis-network.min.js").read_text("utf-8")


# Only the tooltip needs a style (vis-network's own 220 KB stylesheet is for editing tools we do not show).
_CSS = ("html,body{margin:0;height:100%;font:13px sans-serif} body{display:flex;flex-direction:column}"
        " #head{padding:4px 8px;border:1px solid #e0e0e0;border-bottom:0;background:#fafafa;color:#263238}"
        " #ctx{font-weight:600;font-size:15px} #legend span{display:inline-block;margin-right:10px;white-space:nowrap}"
        " #legend i{display:inline-block;width:12px;height:12px;margin-right:3px;vertical-align:-2px;border:3px solid}"
        " #graph{flex:1;min-height:200px;width:100%;box-sizing:border-box;border:1px solid #e0e0e0} div.vis-tooltip{position:absolute;"
        "visibility:hidden;padding:6px;white-space:pre-wrap;max-width:480px;font:13px sans-serif;color:#000;"
        "background:#f5f4ed;border:1px solid #808074;border-radius:3px;box-shadow:3px 3px 10px rgba(0,0,0,.2);"
        "pointer-events:none;z-index:5}")


def _legend_html() -> str:
    """Our own fixed text (no model text): what the shapes, borders and fills mean."""
    kinds = "".join(f'<span><i style="border-color:{c};border-radius:{"50%" if shape == "ellipse" else "2px"}"></i>{name}</span>'
                    for shape, c, name in KIND_STYLE.values())
    fills = "".join(f'<span><i style="background:{VERDICT_COLORS[v]};border-color:{VERDICT_COLORS[v]}"></i>{name}</span>'
                    for v, name in (("supported", "supported"), ("contradicted", "contradicted"),
                                    ("unverifiable", "unverifiable"), (None, "not verified")))
    return f"border: kind of step · {kinds} fill: verdict · {fills} <span>dashed: correlative</span>"


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>{css} #graph{{height:{height}}}</style><script>{js}</script></head>
<body><div id="head"><div id="ctx"></div><div id="legend">{legend}</div></div><div id="graph"></div><script>
document.getElementById("ctx").textContent = {header};
var nodes = new vis.DataSet({nodes});
var edges = new vis.DataSet({edges});
var network = new vis.Network(document.getElementById("graph"), {{nodes: nodes, edges: edges}}, {options});
window.network = network;
network.once("afterDrawing", function () {{
  // The initial fit fills the frame; a graph too large to fit readably is shown from its left (the
  // perturbation) at a readable zoom instead, and the rest is a drag away.
  if (network.getScale() < {min_scale}) {{
    var pos = network.getPositions(), minX = Infinity, ys = [];
    for (var k in pos) {{ minX = Math.min(minX, pos[k].x); ys.push(pos[k].y); }}
    var w = document.getElementById("graph").clientWidth, cy = (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2;
    network.moveTo({{position: {{x: minX - 110 + w / 2 / {min_scale}, y: cy}}, scale: {min_scale}}});
  }}
  window.graphScale = network.getScale();
}});
</script></body></html>"""


def _page(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], height: str, header: str = "") -> str:
    js = _vis_library()
    if height != "auto" and not re.fullmatch(r"\d+(px|%|vh)", height):
        raise ValueError(f"height must look like '520px' (or be 'auto'), not {height!r}")
    return _PAGE.format(css=_CSS, js=js, height=height, nodes=_tojson(nodes), edges=_tojson(edges), options=OPTIONS,
                        header=_tojson(header), legend=_legend_html(), min_scale=MIN_SCALE)


def _colors(background: str, border: str) -> dict[str, Any]:
    """Node colours that stay the same on hover and selection (vis-network's default light blue would
    make the white label unreadable); only the border darkens."""
    return {"background": background, "border": border, "highlight": {"background": background, "border": "#000000"},
            "hover": {"background": background, "border": "#000000"}}


def _tojson(obj: Any) -> str:
    """JSON safe inside a <script> block (as Jinja's tojson): <, >, &, ' escaped."""
    return (json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("'", "\\u0027"))


def layout(expl: Explanation) -> dict[str, tuple[int, int]]:
    """Node id -> (column, row): the column is the causal depth (left to right); within a column, nodes
    are ordered by the mean row of the nodes that lead to them (fewer crossing edges). The interactive
    graph and the SVG are both drawn from it, so they are the same picture."""
    depth = _layers(expl)
    preds: dict[str, list[str]] = {n.id: [] for n in expl.nodes}
    for e in expl.edges:
        if e.source in preds and e.target in preds and e.source != e.target:
            preds[e.target].append(e.source)
    columns: dict[int, list[str]] = {}
    for n in expl.nodes:
        columns.setdefault(depth.get(n.id, 0), []).append(n.id)
    out: dict[str, tuple[int, int]] = {}
    for col in sorted(columns):
        order = {nid: i for i, nid in enumerate(columns[col])}

        def key(nid: str) -> tuple[float, int]:
            rows = [out[p][1] - (len(columns[out[p][0]]) - 1) / 2 for p in preds[nid] if p in out]
            return (sum(rows) / len(rows) if rows else float("inf"), order[nid])

        for row, nid in enumerate(sorted(columns[col], key=key)):
            out[nid] = (col, row)
    return out


COL_PX, ROW_PX = 240, 84  # spacing of the layout's columns and rows (px at scale 1)


def positions(expl: Explanation) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y) centre at scale 1: columns left to right, each column centred vertically."""
    pos = layout(expl)
    height = Counter(c for c, _ in pos.values())
    return {nid: (c * COL_PX, (r - (height[c] - 1) / 2) * ROW_PX) for nid, (c, r) in pos.items()}


def frame_height(expl: Explanation | None) -> int:
    """Pixels of frame that show ``expl`` at a readable size: grows with the tallest column."""
    if expl is None or not expl.nodes:
        return 360
    tallest = max(Counter(c for c, _ in layout(expl).values()).values())
    return max(380, min(900, 150 + ROW_PX * tallest))


def _node_style(node: Any, verdict: str | None, curated: bool) -> dict[str, Any]:
    shape, border, _ = KIND_STYLE[KIND_OF.get(node.action, "association")]
    return {"shape": shape, "color": _colors(VERDICT_COLORS.get(verdict, VERDICT_COLORS[None]), border),
            "borderWidth": 4, "shadow": {"enabled": bool(curated), "size": 8, "x": 3, "y": 3},
            "shapeProperties": {"borderDashes": [6, 4] if KIND_OF.get(node.action) == "association" else False},
            "widthConstraint": {"minimum": 90, "maximum": 200}, "margin": 8,
            "font": {"color": "#ffffff", "face": "sans-serif", "size": FONT_PX}}


def action_graph_html(expl: Explanation, verdicts: dict[str, dict[str, Any]] | None = None, *, height: str = "auto") -> str:
    """A self-contained HTML page with the interactive graph.

    ``verdicts`` maps node id -> {"effective": verdict, "lines": [tooltip lines], "curated": bool} (optional).
    Each node reads as biology ('imatinib ⊣ ABL1', 'apoptosis ↑'; the primitive is in the tooltip), its
    fill is the effective verdict, its shape and border colour the kind of step (interaction, activity,
    pathway, expression, phenotype); causal edges are solid, correlative ones dashed; the context is
    the header above the graph. Layered left to right by causal depth without physics (fast, stable).
    ``height`` 'auto' fills the frame the page is shown in.
    """
    verdicts = verdicts or {}
    safe_ids = {n.id: f"v{i}" for i, n in enumerate(expl.nodes)}
    depth = _layers(expl)
    xy = positions(expl)
    nodes: list[dict[str, Any]] = []
    for n in expl.nodes:
        info = verdicts.get(n.id, {})
        eff = info.get("effective")
        kind = KIND_STYLE[KIND_OF.get(n.action, "association")][2]
        tip = [node_to_text(n), f"kind: {kind}", f"effective verdict: {eff or 'not verified'}"] + list(info.get("lines", []))
        nodes.append({"id": safe_ids[n.id], "label": safe_text("\n".join(wrap_label(biology_label(n, expl))), 160),
                      "title": safe_text("\n".join(tip)), "level": depth.get(n.id, 0),
                      "x": xy[n.id][0], "y": xy[n.id][1], "fixed": True,
                      **_node_style(n, eff, bool(info.get("curated")))})
    edges: list[dict[str, Any]] = []
    for e in expl.edges:
        src, dst = safe_ids.get(e.source), safe_ids.get(e.target)
        if src and dst:  # an edge from the context is the header's, not a line
            correlative = e.relation == "correlative"
            edges.append({"from": src, "to": dst, "dashes": correlative, "color": "#7e57c2" if correlative else "#455a64",
                          "title": safe_text(e.relation), "arrows": "to", "width": 2})
    return _page(nodes, edges, height, safe_text(context_header(expl), 300))


# --- The same drawing as a static SVG (exports: a picture people can share) ---------------------------

_SVG_COL, _SVG_ROW, _SVG_W, _SVG_LINE, _SVG_PAD, _SVG_HEAD = 250, 86, 200, 17, 20, 56


def action_graph_svg(expl: Explanation, verdicts: dict[str, str | None] | None = None, title: str = "") -> str:
    """The action graph as a standalone SVG picture, from :func:`layout` (columns by causal depth):
    the same labels, fills (verdict) and borders (kind) as the interactive graph. Every text is
    XML-escaped, so model text cannot add markup."""
    from xml.sax.saxutils import escape, quoteattr

    verdicts = verdicts or {}
    pos = positions(expl)
    min_y = min((y for _, y in pos.values()), default=0.0)
    n_cols = max((x for x, _ in pos.values()), default=0.0) / COL_PX + 1
    n_rows = (max((y for _, y in pos.values()), default=0.0) - min_y) / ROW_PX + 1
    width = int(_SVG_PAD * 2 + (n_cols - 1) * _SVG_COL + _SVG_W)
    height = int(_SVG_HEAD + _SVG_PAD * 2 + n_rows * _SVG_ROW)

    def centre(nid: str) -> tuple[float, float]:
        x, y = pos[nid]
        return (_SVG_PAD + x / COL_PX * _SVG_COL + _SVG_W / 2,
                _SVG_HEAD + _SVG_PAD + (y - min_y) / ROW_PX * _SVG_ROW + _SVG_ROW / 2)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="sans-serif">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#455a64"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    if title:
        out.append(f'<text x="{_SVG_PAD}" y="22" font-size="15" font-weight="bold" fill="#263238">{escape(title)}</text>')
    header = context_header(expl)
    if header:
        out.append(f'<text x="{_SVG_PAD}" y="44" font-size="14" fill="#263238">context: {escape(header)}</text>')
    ids = set(pos)
    for e in expl.edges:
        if e.source in ids and e.target in ids:
            (x1, y1), (x2, y2) = centre(e.source), centre(e.target)
            x1, x2 = x1 + _SVG_W / 2, x2 - _SVG_W / 2
            dash = ' stroke-dasharray="6 4" stroke="#7e57c2"' if e.relation == "correlative" else ' stroke="#455a64"'
            mid = (x1 + x2) / 2
            out.append(f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" fill="none" '
                       f'stroke-width="2"{dash} marker-end="url(#arrow)"/>')
    for n in expl.nodes:
        cx, cy = centre(n.id)
        shape, border, _ = KIND_STYLE[KIND_OF.get(n.action, "association")]
        fill = VERDICT_COLORS.get(verdicts.get(n.id), VERDICT_COLORS[None])
        lines = wrap_label(biology_label(n, expl))
        h = _SVG_LINE * len(lines) + 18
        out.append(f"<g><title>{escape(node_to_text(n))}</title>")
        if shape == "ellipse":
            out.append(f'<ellipse cx="{cx:.0f}" cy="{cy:.0f}" rx="{_SVG_W / 2:.0f}" ry="{h / 2 + 6:.0f}" fill="{fill}" '
                       f'stroke="{border}" stroke-width="4"/>')
        else:
            out.append(f'<rect x="{cx - _SVG_W / 2:.0f}" y="{cy - h / 2:.0f}" width="{_SVG_W}" height="{h}" rx="4" fill="{fill}" '
                       f'stroke="{border}" stroke-width="4"/>')
        top = cy - (len(lines) - 1) * _SVG_LINE / 2 + 5
        spans = "".join(f'<tspan x="{cx:.0f}" y="{top + i * _SVG_LINE:.0f}">{escape(line)}</tspan>' for i, line in enumerate(lines))
        out.append(f'<text text-anchor="middle" font-size="14" fill="#ffffff" data-primitive={quoteattr(n.action)}>{spans}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


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
