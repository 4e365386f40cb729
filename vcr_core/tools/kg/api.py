"""The knowledge graph as other parts use it: the loaded graph, lookup, edges, neighbours."""
from __future__ import annotations

import threading
from typing import Any

from ...kernel.grounding import note_used, stored_entity
from ...kernel.settings import get_settings
from .graph import CompactGraph
from .loaders import GraphUnavailable, load_kg_csv, load_stark
from .match import Matcher, NodeMatch

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def get_graph() -> CompactGraph:
    """The configured graph: STARK_PRIMEKG_DIR, else PRIMEKG_CSV, else the starter graph (cached, thread-safe)."""
    s = get_settings()
    key = f"{s.stark_primekg_dir}|{s.primekg_csv}|{s.vcr_home}"
    with _LOCK:
        if _STATE.get("key") != key:
            if s.stark_primekg_dir:
                graph = load_stark(s.stark_primekg_dir)
            elif s.primekg_csv:
                graph = load_kg_csv(s.primekg_csv)
            else:
                from .starter import load_starter
                graph = load_starter()
            mondo = s.data_dir / "mondo.json" if s.data_dir and (s.data_dir / "mondo.json").exists() else None
            _forget_lookups()
            _STATE.update(key=key, graph=graph, matcher=Matcher(graph, mondo, s.drugbank_xml_path))
        return _STATE["graph"]


def set_graph(graph: CompactGraph, matcher: Matcher | None = None) -> None:
    """Use ``graph`` until settings change (tests and benchmarks)."""
    s = get_settings()
    with _LOCK:
        _forget_lookups()
        if matcher is not None:
            matcher.clear_cache()  # it may have answered for an earlier graph
        _STATE.update(key=f"{s.stark_primekg_dir}|{s.primekg_csv}|{s.vcr_home}", graph=graph, matcher=matcher or Matcher(graph))


def _forget_lookups() -> None:
    """Empty the memo of the matcher being replaced (a reloaded graph gets a new, empty one)."""
    old = _STATE.get("matcher")
    if old is not None:
        old.clear_cache()


def _matcher() -> Matcher:
    get_graph()
    return _STATE["matcher"]


def graph_info() -> dict[str, Any]:
    """Node and edge counts by type and relation, and where the graph came from."""
    g = get_graph()
    import numpy as np
    types = np.bincount(g.node_type, minlength=len(g.type_names))
    rels = np.bincount(g.rel, minlength=len(g.relation_names))
    return {"source": g.origin, "nodes": g.n_nodes, "edges": g.n_edges,
            "nodes_by_type": {t: int(types[i]) for i, t in enumerate(g.type_names)},
            "edges_by_relation": {r: int(rels[i]) for i, r in enumerate(g.relation_names)}}


def lookup(name: str, types: list[str] | None = None, k: int = 5) -> list[NodeMatch]:
    """Matches for ``name`` (see :mod:`.match` for the routes). While a claim is verified, a curator's
    grounding of ``name`` is looked up by its canonical name instead ("ABL1" re-grounded to HGNC:6307 is
    looked up as KDR; :mod:`vcr_core.kernel.grounding`); automatic groundings leave the name as written,
    which the graph's own routes already match."""
    stored = stored_entity(name)
    if stored is not None and stored.get("curator") and stored.get("canonical"):
        note_used(stored)
        name = str(stored["canonical"])
    return _matcher().lookup(name, types, k)


def edges_between(i: int, j: int) -> list[dict[str, Any]]:
    """Edges from node ``i`` to node ``j`` with their relation."""
    g = get_graph()
    return [{"relation": g.relation_names[r], "display_relation": g.relation_names[r], "source": g.sources[i] or g.origin,
             "target": g.names[j]} for r in g.edges_between(i, j)]


def neighbors(i: int, relation: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Up to ``limit`` neighbours of node ``i`` (optionally of one relation)."""
    g = get_graph()
    nb, rl = g.neighbors(i)
    out = []
    for j, r in zip(nb.tolist(), rl.tolist()):
        if relation and g.relation_names[r] != relation:
            continue
        out.append({"index": j, "name": g.names[j], "type": g.type_of(j), "relation": g.relation_names[r]})
        if len(out) >= limit:
            break
    return out


__all__ = ["GraphUnavailable", "NodeMatch", "edges_between", "get_graph", "graph_info", "lookup", "neighbors", "set_graph"]
