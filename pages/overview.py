"""Overview: counts and charts of traces, claims, curation progress, runs and cost."""
import altair as alt
import pandas as pd
import streamlit as st
from pages.common import engine, through_app
from vcr_core.curation import curator_vs_machine, inter_curator_agreement, overview_counts, progress_by_curator
from vcr_core.viz.graph import VERDICT_COLORS

through_app()
st.title("Overview")
counts = overview_counts(engine())
n_traces, n_claims, tv, by_status = counts["traces"], counts["claims"], counts["trace_verdicts"], counts["traces_by_status"]
if not n_traces:
    st.info("Nothing here yet: upload records and generate, or import traces.")
    st.stop()
claims = pd.DataFrame(counts["verdicts_by_primitive"], columns=["primitive", "verdict", "n"])
runs = pd.DataFrame(counts["runs"])
m = st.columns(5)
m[0].metric("Traces", n_traces)
m[1].metric("Claims", n_claims)
m[2].metric("Pass the filter", tv.get("pass", 0))
m[3].metric("Fail the filter", tv.get("fail", 0))
m[4].metric("Insufficient evidence", tv.get("insufficient", 0))
c1, c2 = st.columns(2)
c1.markdown("**Traces by status**")
c1.bar_chart(pd.Series(by_status, name="traces"), horizontal=True, y_label="")
c2.markdown("**Traces by filter verdict**")
filter_counts = pd.DataFrame({"pass": [tv.get("pass", 0)], "fail": [tv.get("fail", 0)],
                              "insufficient": [tv.get("insufficient", 0)],
                              "not verified": [n_traces - sum(tv.values())]}, index=["traces"])
c2.bar_chart(filter_counts, color=[VERDICT_COLORS["supported"], VERDICT_COLORS["contradicted"], VERDICT_COLORS["unverifiable"],
                                   VERDICT_COLORS[None]],
             horizontal=True, y_label="")
if not claims.empty:
    st.markdown("**Verifier verdicts by primitive**")
    # Altair rather than st.bar_chart: full primitive names (no label cut-off) and the graph's verdict
    # colours, so green means supported on every page.
    verdicts = sorted(claims["verdict"].unique())
    st.altair_chart(alt.Chart(claims).mark_bar().encode(
        y=alt.Y("primitive:N", sort="-x", title=None, axis=alt.Axis(labelLimit=400)),
        x=alt.X("sum(n):Q", title="verdicts (one per claim and verifier)"),
        color=alt.Color("verdict:N", scale=alt.Scale(domain=verdicts, range=[VERDICT_COLORS.get(v, VERDICT_COLORS[None]) for v in verdicts])),
        tooltip=["primitive", "verdict", "n"]))
prog = progress_by_curator(engine())
st.markdown("**Curation progress per curator**")
if prog:
    st.bar_chart(pd.DataFrame(prog).set_index("curator"))
else:
    st.caption("No judgments yet.")
st.markdown("**Agreement between curators** (Cohen's kappa on claim verdicts, over the claims both judged)")
agreement = inter_curator_agreement(engine())
if agreement["pairs"]:
    st.dataframe(pd.DataFrame(agreement["pairs"]), hide_index=True, width="stretch")
    with st.expander("Per primitive"):
        st.dataframe(pd.DataFrame(agreement["by_primitive"]), hide_index=True, width="stretch")
else:
    st.caption("No claim judged by two curators yet.")
st.markdown("**Curators vs verifiers** (the verifiers curators overrule most are the ones to improve)")
st.caption("judgments: claims a curator judged where the verifier gave a verdict · overruled: the curator decided "
           "otherwise · could not run: the verifier gave no verdict (unverifiable: its source unavailable or offline, "
           "or nothing to check against), so there was nothing to overrule")
vs_machine = curator_vs_machine(engine())
if vs_machine:
    st.dataframe(pd.DataFrame(vs_machine), hide_index=True, width="stretch")
else:
    st.caption("No judged claim with a verifier verdict yet.")
if not runs.empty:
    st.markdown("**Runs: duration and cost**")
    st.dataframe(runs, hide_index=True, width="stretch")
