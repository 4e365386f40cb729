"""Export traces: approved ones by default, as JSONL, the original pipeline's JSON, or GraphML."""
from .exporters import FORMATS, export_file, export_traces, iter_docs, select_traces, trace_doc, write_export

__all__ = ["FORMATS", "export_file", "export_traces", "iter_docs", "select_traces", "trace_doc", "write_export"]
