"""`vcr tools` and `vcr kg`."""
from __future__ import annotations

import argparse
import json

from .util import add_command, add_group


def cmd_tools(args: argparse.Namespace) -> int:
    from ..tools.base import tool_statuses
    st = tool_statuses()
    if args.json:
        print(json.dumps({k: {"available": v.available, "reason": v.reason, "detail": v.detail} for k, v in st.items()}))
        return 0
    for name, s in st.items():
        print(f"{name:<18} {'available' if s.available else 'unavailable'}: {s.detail if s.available else s.reason}")
    return 0


def cmd_kg_info(args: argparse.Namespace) -> int:
    from ..tools.kg import graph_info
    info = graph_info()
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"{info['source']}\n{info['nodes']:,} nodes, {info['edges']:,} directed edges")
    for t, n in info["nodes_by_type"].items():
        print(f"  {t:<22} {n:>9,}")
    for r, n in info["edges_by_relation"].items():
        print(f"  {r:<22} {n:>9,}")
    return 0


def cmd_kg_build(args: argparse.Namespace) -> int:
    from ..tools.kg.starter import build_starter, starter_path
    g = build_starter()
    print(f"starter graph built: {g.n_nodes:,} nodes, {g.n_edges:,} edges, cached at {starter_path()}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `vcr tools` and `vcr kg`."""
    p = add_command(sub, "tools", "list the tools and whether each is available (and why not)", func=cmd_tools,
                    examples=("vcr tools --json",))
    p.add_argument("--json", action="store_true")
    _, ks = add_group(sub, "kg", "the knowledge graph: info, build the starter graph", dest="kg_command",
                      description="The graph in use: STARK_PRIMEKG_DIR, else PRIMEKG_CSV, else the embedded starter graph.",
                      examples=("vcr kg info", "vcr kg build-starter"))
    pi = ks.add_parser("info", help="node and edge counts by type, and where the graph came from")
    pi.add_argument("--json", action="store_true")
    pi.set_defaults(func=cmd_kg_info)
    ks.add_parser("build-starter", help="build (or rebuild) and cache the starter graph").set_defaults(func=cmd_kg_build)
