"""Export: approved traces by default, or any filter, as JSONL, the original JSON, GraphML or an SVG picture of the graphs."""
import streamlit as st

from pages.common import batch_options, engine, through_app
from vcr_core.files import export_file, select_traces

through_app()
st.title("Export traces")
c = st.columns(4)
status = c[0].selectbox("Curation status", ["approved", "any"], help="Approved by a curator (default), or every trace")
verified = c[1].checkbox("Only traces that pass the filter policy")
batches = batch_options()
batch = c[2].selectbox("Batch", [None] + list(batches), format_func=lambda b: "any" if b is None else batches[b])
run = c[3].number_input("Run id (0 = any)", 0, step=1) or None
ids = select_traces(engine(), status=status, verified_only=verified, batch_id=batch, run_id=run)
if not ids:
    st.info("No trace matches. Approve traces on the Review page, or choose 'any'.")
    st.stop()
st.write(f"{len(ids)} trace(s) selected.")
st.caption("Each file is built when you click its button, streamed to a temporary file on the server. `vcr export -o FILE` "
           "does the same from the command line, straight to disk (the way to go for the largest exports).")
eng = engine()
cols = st.columns(4)
for col, (fmt, label, name, mime) in zip(cols, [("jsonl", "JSONL (full, with verdicts and curations)", "traces.jsonl", "application/jsonl"),
                                               ("original", "Original pipeline JSON", "structure_explain.json", "application/json"),
                                               ("graphml", "GraphML (Cytoscape)", "traces.graphml", "application/xml"),
                                               ("svg", "Graphs as an SVG picture", "traces.svg", "image/svg+xml")]):
    # A callable: the file is built on click (in its own thread), not on every run of the page, streamed
    # batch by batch to a temporary file that Streamlit reads once (its download keeps that copy in memory;
    # `vcr export -o FILE` writes to disk only, for the largest exports).
    col.download_button(label, data=lambda fmt=fmt: export_file(eng, ids, fmt), file_name=name, mime=mime,
                        key=f"dl_{fmt}", on_click="ignore")
