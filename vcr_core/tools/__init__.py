"""Tools that gather context for a record (knowledge graph, literature, gene info, Wikipedia)."""
from .base import Tool, ToolOptions, ToolResult, ToolStatus, get_tool, run_tools, tool_names, tool_statuses

__all__ = ["Tool", "ToolOptions", "ToolResult", "ToolStatus", "get_tool", "run_tools", "tool_names", "tool_statuses"]
