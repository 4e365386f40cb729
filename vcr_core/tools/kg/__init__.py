"""The knowledge-graph tool: PrimeKG (STaRK directory or kg.csv) or the embedded starter graph,
as a compact CSR graph; entity matching; node documents; subgraphs."""
from .api import edges_between, get_graph, graph_info, lookup, neighbors, set_graph
from .graph import CompactGraph
from .loaders import GraphUnavailable, load_kg_csv, load_stark
from .match import Matcher, NodeMatch

__all__ = ["CompactGraph", "GraphUnavailable", "Matcher", "NodeMatch", "edges_between", "get_graph", "graph_info",
           "load_kg_csv", "load_stark", "lookup", "neighbors", "set_graph"]
