"""Export traces: approved ones by default, as JSONL, the original pipeline's JSON, or GraphML."""
from .exporters import FORMATS, export_traces, select_traces

__all__ = ["FORMATS", "export_traces", "select_traces"]
