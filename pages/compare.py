"""Compare: two traces of the same record side by side, claims matched by hash."""
import pandas as pd
import streamlit as st

from pages.common import engine, through_app
from vcr_core.curation.compare import comparison_groups, trace_labels
from vcr_core.curation import claim_states, graph_verdicts, trace_bundle
from vcr_core.formalism import Explanation
from vcr_core.viz import action_graph_html, frame_height

through_app()
st.title("Compare two traces of a record")
from pages.assembled_section import compare_with_model  # noqa: E402

compare_with_model(engine())
st.divider()
# Records naming the same perturbation in the same context are one group, whichever file or run they
# came from (e.g. the original pipeline's Claude and Gemini outputs imported as two files).
groups = comparison_groups(engine())
if not groups:
    st.info("No record has two traces yet. Generate the same batch with another model or run, or import a second "
            "model's outputs for the same records, to compare.")
    st.stop()
by_key = {g["key"]: g for g in groups}


def _group_label(k: str) -> str:
    g = by_key[k]
    where = f" across {len(g['record_ids'])} records (files or batches)" if len(g["record_ids"]) > 1 else ""
    return f"{g['label']} · {len(g['trace_ids'])} traces{where}"


key = st.selectbox("Perturbation and context", list(by_key), format_func=_group_label)
labels = trace_labels(engine(), by_key[key]["trace_ids"])
c1, c2 = st.columns(2)
left = c1.selectbox("Left", list(labels), format_func=labels.get, index=0)
right = c2.selectbox("Right", list(labels), format_func=labels.get, index=1)
ls = {s.claim.hash: s for s in claim_states(engine(), left)}
rs = {s.claim.hash: s for s in claim_states(engine(), right)}
shared = [h for h in ls if h in rs]
only_l = [h for h in ls if h not in rs]
only_r = [h for h in rs if h not in ls]
st.caption(f"{len(shared)} shared · {len(only_l)} only left · {len(only_r)} only right")
# The same drawing as on Home and Review: fill = effective verdict, border = kind of step, context as the header.
for col, tid, side in ((c1, left, ls), (c2, right, rs)):
    bundle = trace_bundle(engine(), tid)
    if bundle and bundle["trace"].explanation:
        expl = Explanation.model_validate(bundle["trace"].explanation)
        with col:
            st.iframe(action_graph_html(expl, graph_verdicts(list(side.values()))), height=frame_height(expl))


def table(hashes, side):
    return pd.DataFrame([{"claim": side[h].claim.text, "effective": side[h].effective or ""} for h in hashes])


for title, hashes, side in (("Shared", shared, ls), ("Only left", only_l, ls), ("Only right", only_r, rs)):
    st.subheader(title)
    if hashes:
        st.dataframe(table(hashes, side), hide_index=True, width="stretch")
    else:
        st.caption("none")
