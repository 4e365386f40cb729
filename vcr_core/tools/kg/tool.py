"""The tools ``kg-ner`` and ``kg-ner-subgraph``: a record's entities matched to graph nodes, as
prompt text in the original format ("KNOWLEDGE GRAPH INFORMATION") plus structured evidence."""
from __future__ import annotations

from collections import defaultdict

from ...records.model import Record
from ..base import ToolOptions, ToolResult, ToolStatus
from ..pubmed.query import record_entities

NEIGHBOUR_CAP = 10   # neighbours listed per (relation, neighbour type) group
GROUP_CAP = 12       # groups listed per node


def _status() -> ToolStatus:
    try:
        from .api import get_graph
        g = get_graph()
    except Exception as exc:  # noqa: BLE001 - the reason is shown to the user
        return ToolStatus(False, f"no knowledge graph could be loaded: {exc}")
    return ToolStatus(True, detail=f"{g.origin}: {g.n_nodes:,} nodes, {g.n_edges:,} edges")


def _matches(record: Record, k: int):
    from .api import lookup
    out = []
    for name, etype in record_entities(record).items():
        hits = lookup(name, None, max(1, k))
        if hits:
            out.append((name, etype, hits[0]))
    return out


def _node_doc(g, m, with_rel: bool) -> str:
    det = g.details[m.index] if isinstance(g.details[m.index], dict) else {}
    details = "; ".join(f"{k}: {', '.join(map(str, v[:8])) if isinstance(v, list) else v}" for k, v in det.items() if v)
    lines = [f"- name: {m.name}", f"  type: {m.type}", f"  source: {m.source} {g.ids[m.index]}".rstrip(),
             f"  details: {details or 'none'}"]
    if with_rel:
        nb, rl = g.neighbors(m.index)
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for j, r in zip(nb.tolist(), rl.tolist()):
            key = (g.relation_names[r], g.type_of(j))
            if len(groups[key]) < NEIGHBOUR_CAP:
                groups[key].append(g.names[j])
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for j, r in zip(nb.tolist(), rl.tolist()):
            counts[(g.relation_names[r], g.type_of(j))] += 1
        lines.append(f"  relations (at most {NEIGHBOUR_CAP} neighbours per relation and type, {GROUP_CAP} groups):")
        for (rel, t), names in sorted(groups.items(), key=lambda kv: -counts[kv[0]])[:GROUP_CAP]:
            more = counts[(rel, t)] - len(names)
            lines.append(f"    {rel} -> {t}: {', '.join(names)}" + (f" (+{more} more)" if more > 0 else ""))
    return "\n".join(lines)


class KgTool:
    """``kg-ner`` (node documents) or ``kg-ner-subgraph`` (plus the subgraph connecting the nodes)."""

    def __init__(self, name: str, subgraph: bool) -> None:
        self.name, self.subgraph = name, subgraph
        self.title = "Knowledge graph " + ("subgraph" if subgraph else "lookup")

    def status(self) -> ToolStatus:
        return _status()

    def run(self, record: Record, options: ToolOptions) -> ToolResult:
        from .api import edges_between, get_graph
        g = get_graph()
        matches = _matches(record, options.kg_num_neighbor)
        if not matches:
            return ToolResult(self.name, "empty", "KNOWLEDGE GRAPH INFORMATION\nNo entity of this record matched the graph.",
                              {"matches": [], "edges": []})
        docs = [_node_doc(g, m, options.kg_with_rel) for _, _, m in matches]
        evidence = {"graph": g.origin, "matches": [{"mention": n, "mention_type": t, "index": m.index, "name": m.name,
                                                     "type": m.type, "method": m.method, "score": m.score} for n, t, m in matches],
                    "edges": []}
        text = "KNOWLEDGE GRAPH INFORMATION\n" + "\n".join(docs)
        if self.subgraph and len(matches) > 1:
            nodes, edges = g.steiner_subgraph([m.index for _, _, m in matches])
            evidence["edges"] = [{"source": g.names[a], "target": g.names[b], "relation": g.relation_names[r] if r >= 0 else "?"}
                                 for a, b, r in edges]
            text += "\n\nSUBGRAPH NODES\n" + "\n".join(f"- {g.names[i]} ({g.type_of(i)})" for i in sorted(nodes))
            text += "\n\nSUBGRAPH CONNECTIONS\n" + ("\n".join(f"- {e['source']} --{e['relation']}--> {e['target']}" for e in evidence["edges"])
                                                     or "- no path of length 4 or less connects the matched nodes")
        else:
            pairs = [(a, b) for i, (_, _, a) in enumerate(matches) for (_, _, b) in matches[i + 1:]]
            for a, b in pairs:
                for e in edges_between(a.index, b.index):
                    evidence["edges"].append({"source": a.name, "target": b.name, "relation": e["relation"]})
        return ToolResult(self.name, "ok", text, evidence)


def kg_ner() -> KgTool:
    """The ``kg-ner`` tool (registered in pyproject.toml)."""
    return KgTool("kg-ner", subgraph=False)


def kg_ner_subgraph() -> KgTool:
    """The ``kg-ner-subgraph`` tool (registered in pyproject.toml)."""
    return KgTool("kg-ner-subgraph", subgraph=True)
