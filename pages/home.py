"""Home: what the app does, and a working demo in one click (records stored, explained, a graph shown)."""
from pathlib import Path

import streamlit as st

from pages.common import curator, engine, plain_md, through_app

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_records.json"

through_app()
st.title("VCR Curation")
st.write("Generate, verify and curate mechanistic explanations of how a perturbation (a drug, a knockout) "
         "changes a cell: each explanation is an action graph whose claims a curator accepts or overrides.")

from vcr_core.kernel.statuses import JobStatus
from vcr_core.llm import resolve_model  # noqa: E402

choice = resolve_model()
if choice.is_knowledge:
    st.info("No API key is set, so explanations are **assembled from knowledge bases** (the record's targets and "
            "mechanism, the knowledge graph, Gene Ontology, ChEBI), not reasoned by a model. They restate known "
            "biology, every claim names its source, and inferences are labelled. Set a provider key on the Status "
            "page's instructions for model-written explanations.")
else:
    st.info(f"Explanations are written by {plain_md(choice.label)}.")

if st.button("Load demo records and explain them", type="primary",
             help="Stores five demo records (nintedanib, imatinib, vemurafenib, dexamethasone, a TP53 knockout) and "
                  "starts a run on the default; the first graph appears here."):
    from vcr_core.generation.demo import start_demo
    try:
        st.session_state["demo_run"] = start_demo(engine(), DEMO, created_by=curator() or None)
    except ValueError as exc:
        st.error(str(exc))


@st.fragment(run_every=1)
def demo_progress(run_id: int) -> None:
    from vcr_core.formalism import Explanation
    from vcr_core.generation import run_progress
    from vcr_core.generation.demo import first_explained_trace
    from vcr_core.jobs.inflight import describe
    from vcr_core.viz import action_graph_html

    p = run_progress(engine(), run_id)
    st.progress(min(1.0, p["fraction"]), text=f"Run #{run_id} · {p['status']} · {p['n_done']}/{p['n_total']} records")
    if p["job"] and p["job"]["message"] and p["active"]:
        st.caption(plain_md(p["job"]["message"]))
    for item in p.get("in_flight") or []:
        st.caption(plain_md(f"▶ {item['label']}: {describe(item)}"))  # a record label, a model name
    if p.get("error"):
        st.error(plain_md(p["error"]))
    first = first_explained_trace(engine(), run_id)
    if first is None:
        if p["status"] == JobStatus.QUEUED:
            st.caption("waiting for the background worker to pick the run up")
        return
    expl = Explanation.model_validate(first["explanation"])
    st.subheader("First explanation")
    if expl.answer:
        st.text(expl.answer)  # model-written: plain text, a link it wrote stays text
    st.iframe(action_graph_html(expl), height=540)
    st.caption(f"trace #{first['id']} · {first['status']}. Judge its claims on the Review page; follow the run on Generate.")
    st.page_link("pages/review.py", label="Review the explanations", icon=":material/rule:")


if st.session_state.get("demo_run"):
    demo_progress(st.session_state["demo_run"])

st.divider()
st.markdown("**Your own records**: Upload a JSON file, then Generate, Review, Compare and Export. "
            "The Status page says what is configured and what is missing.")
