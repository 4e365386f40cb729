"""Pictures of action graphs: an interactive vis-network page (escaped), a static SVG, and networkx graphs."""
from .graph import VERDICT_COLORS, action_graph_html, action_graph_svg, biology_label, frame_height, to_networkx

__all__ = ["VERDICT_COLORS", "action_graph_html", "action_graph_svg", "biology_label", "frame_height", "to_networkx"]
