"""Export: approved traces by default, or any filter, as JSONL, the original JSON, GraphML, an SVG picture of the
graphs, or a Hugging Face dataset."""
from datetime import datetime, time

import streamlit as st

from pages.common import batch_options, engine, through_app
from vcr_core.files import export_file, select_traces
from vcr_core.files.exporters import CURATION_STATES, trace_models
from vcr_core.files.hf import SPLIT_RULES, HfOptions, hf_zip

through_app()
st.title("Export traces")
eng = engine()
c = st.columns(4)
status = c[0].selectbox("Curation status", list(CURATION_STATES),
                        help="Approved by a curator (default), every trace, or one curation state")
verified = c[1].checkbox("Only traces that pass the filter policy")
batches = batch_options()
batch = c[2].selectbox("Batch", [None] + list(batches), format_func=lambda b: "any" if b is None else batches[b])
run = c[3].number_input("Run id (0 = any)", 0, step=1) or None
c = st.columns(4)
model = c[0].selectbox("Model", [None] + trace_models(eng), format_func=lambda m: "any" if m is None else m)
since = c[1].date_input("Made on or after", value=None)
until = c[2].date_input("Made before", value=None)
scope = dict(batch_id=batch, run_id=run, model=model, since=since and datetime.combine(since, time()),
             until=until and datetime.combine(until, time()))
ids = select_traces(eng, status=status, verified_only=verified, **scope)
if not ids:
    st.info("No trace matches. Approve traces on the Review page, or choose 'any'.")
    st.stop()
st.write(f"{len(ids)} trace(s) selected.")
st.caption("Each file is built when you click its button, streamed to a temporary file on the server. `vcr export -o FILE` "
           "does the same from the command line, straight to disk (the way to go for the largest exports).")
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

st.subheader("Training set (Hugging Face dataset)")
st.caption("A zip of a dataset directory that `datasets.load_dataset(DIR, CONFIG)` reads: `traces` (every trace of the "
           "batch, run, model and dates chosen, with claims, verdicts and curations), `sft` (chat messages of the "
           "traces selected above) and `preferences` (approved over rejected, pass over fail, from one record's traces), "
           "split so that no perturbation (or cell line) is in two splits. `vcr export --format hf -o DIR` does the same.")
c = st.columns(2)
split_by = c[0].selectbox("Split by", list(SPLIT_RULES), key="hf_split",
                          help="perturbation: a drug or knockout in one split only; cell_line: a cell line in one split "
                               "only; both: a held-out drug x cell-line block (rows across blocks are left out)")
seed = int(c[1].number_input("Seed", 0, step=1, key="hf_seed"))
selection = {"status": status, "verified_only": verified, "batch": batch, "run": run, "model": model,
             "since": str(since) if since else None, "until": str(until) if until else None}
st.download_button("Hugging Face dataset (zip)", key="dl_hf", file_name="vcr-dataset.zip", mime="application/zip",
                   on_click="ignore",
                   data=lambda: hf_zip(eng, select_traces(eng, status="any", **scope), sft_ids=ids, selection=selection,
                                       options=HfOptions(split_by=split_by, seed=seed)))
