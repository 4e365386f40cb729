"""Export: approved traces by default, or any filter, as JSONL, the original JSON or GraphML."""
import streamlit as st

from pages.common import batch_options, engine
from vcr_core.export import export_traces, select_traces

st.title("Export traces")
c = st.columns(3)
status = c[0].selectbox("Curation status", ["approved", "any"], help="Approved by a curator (default), or every trace")
verified = c[1].checkbox("Only traces that pass the filter policy")
batches = batch_options()
batch = c[2].selectbox("Batch", [None] + list(batches), format_func=lambda b: "any" if b is None else batches[b])
ids = select_traces(engine(), status=status, verified_only=verified, batch_id=batch)
if not ids:
    st.info("No trace matches. Approve traces on the Review page, or choose 'any'.")
    st.stop()
st.write(f"{len(ids)} trace(s) selected.")
cols = st.columns(3)
for col, (fmt, label, name, mime) in zip(cols, [("jsonl", "JSONL (full, with verdicts and curations)", "traces.jsonl", "application/jsonl"),
                                               ("original", "Original pipeline JSON", "structure_explain.json", "application/json"),
                                               ("graphml", "GraphML (Cytoscape)", "traces.graphml", "application/xml")]):
    col.download_button(label, data=export_traces(engine(), ids, fmt), file_name=name, mime=mime, key=f"dl_{fmt}")
