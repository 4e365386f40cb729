"""Compare: two traces of the same record side by side, claims matched by hash."""
import pandas as pd
import streamlit as st
from sqlmodel import Session, func, select

from pages.common import engine, through_app
from vcr_core.curation import claim_states
from vcr_core.store import Record, Trace

through_app()
st.title("Compare two traces of a record")
from pages.assembled_section import compare_with_model  # noqa: E402

compare_with_model(engine())
st.divider()
with Session(engine()) as s:
    multi = s.exec(select(Trace.record_id, func.count(Trace.id)).group_by(Trace.record_id).having(func.count(Trace.id) > 1)).all()
    records = {r.id: r for r in s.exec(select(Record).where(Record.id.in_([m[0] for m in multi]))).all()} if multi else {}
if not records:
    st.info("No record has two traces yet. Generate the same batch with another model or run to compare.")
    st.stop()
rid = st.selectbox("Record", list(records), format_func=lambda r: f"{records[r].index}: {records[r].label}")
with Session(engine()) as s:
    traces = s.exec(select(Trace).where(Trace.record_id == rid).order_by(Trace.id)).all()
labels = {t.id: f"#{t.id} · run {t.run_id} · {t.model or 'imported'}" for t in traces}
c1, c2 = st.columns(2)
left = c1.selectbox("Left", list(labels), format_func=labels.get, index=0)
right = c2.selectbox("Right", list(labels), format_func=labels.get, index=1)
ls = {s.claim.hash: s for s in claim_states(engine(), left)}
rs = {s.claim.hash: s for s in claim_states(engine(), right)}
shared = [h for h in ls if h in rs]
only_l = [h for h in ls if h not in rs]
only_r = [h for h in rs if h not in ls]
st.caption(f"{len(shared)} shared · {len(only_l)} only left · {len(only_r)} only right")


def table(hashes, side):
    return pd.DataFrame([{"claim": side[h].claim.text, "effective": side[h].effective or ""} for h in hashes])


for title, hashes, side in (("Shared", shared, ls), ("Only left", only_l, ls), ("Only right", only_r, rs)):
    st.subheader(title)
    if hashes:
        st.dataframe(table(hashes, side), hide_index=True, width="stretch")
    else:
        st.caption("none")
