"""Pictures of action graphs: an interactive pyvis network (escaped) and networkx graphs."""
from .graph import VERDICT_COLORS, action_graph_html, to_networkx

__all__ = ["VERDICT_COLORS", "action_graph_html", "to_networkx"]
