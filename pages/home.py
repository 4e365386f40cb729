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

def _start_demo(again: bool = False) -> None:
    from vcr_core.generation.demo import start_demo
    try:
        started = start_demo(engine(), DEMO, created_by=curator() or None, again=again)
    except ValueError as exc:
        st.session_state["demo_error"] = str(exc)
        return
    st.session_state["demo_run"] = started.run_id
    st.session_state["demo_reused"] = started.reused


shown = st.session_state.get("demo_run")
st.button("Load demo records and explain them", type="primary", on_click=_start_demo, disabled=bool(shown),
          help="Stores five demo records (nintedanib, imatinib, vemurafenib, dexamethasone, a TP53 knockout) and "
               "starts a run on the default; the first graph appears here. Once per click: a demo already "
               "explained is shown again rather than explained twice.")
if st.session_state.get("demo_error"):
    st.error(st.session_state.pop("demo_error"))


def _demo_active(run_id: int) -> bool:
    from vcr_core.generation import run_progress
    return bool(run_progress(engine(), run_id)["active"])


def demo_progress(run_id: int, polling: bool) -> None:
    from vcr_core.curation import claim_states, graph_verdicts
    from vcr_core.formalism import Explanation
    from vcr_core.generation import run_progress
    from vcr_core.generation.demo import first_explained_trace
    from vcr_core.jobs.inflight import describe
    from vcr_core.viz import action_graph_html, frame_height

    p = run_progress(engine(), run_id)
    first = first_explained_trace(engine(), run_id)
    shown_id = (st.session_state.get("demo_graph_key") or (None,))[0]
    if polling and not p["active"] and (first is None or shown_id == first["id"]):
        # The run ended: draw the whole page once more, and stop polling. A first graph not drawn yet is drawn
        # by this run first (the run often ends right after its first trace): the rerun comes on the next poll.
        st.rerun()
    st.progress(min(1.0, p["fraction"]), text=f"Run #{run_id} · {p['status']} · {p['n_done']}/{p['n_total']} records")
    if p["job"] and p["job"]["message"] and p["active"]:
        st.caption(plain_md(p["job"]["message"]))
    for item in p.get("in_flight") or []:
        st.caption(plain_md(f"▶ {item['label']}: {describe(item)}"))  # a record label, a model name
    if p.get("error"):
        st.error(plain_md(p["error"]))
    if first is None:
        if p["status"] == JobStatus.QUEUED:
            st.caption("waiting for the background worker to pick the run up")
        return
    # Drawn as Review draws it (verdicts once verified), and built again only when the trace or its verdicts
    # change, not once per poll: the frame stays still while the run goes on.
    verdicts = graph_verdicts(claim_states(engine(), first["id"]))
    key = (first["id"], first["status"], tuple(sorted((k, v["effective"]) for k, v in verdicts.items())))
    if st.session_state.get("demo_graph_key") != key:
        expl = Explanation.model_validate(first["explanation"])
        st.session_state["demo_graph"] = (expl.answer, action_graph_html(expl, verdicts), frame_height(expl))
        st.session_state["demo_graph_key"] = key
    answer, html, height = st.session_state["demo_graph"]
    st.subheader("First explanation")
    st.caption(plain_md(first["record"]))
    if answer:
        st.text(answer)  # model-written: plain text, a link it wrote stays text
    st.iframe(html, height=height)
    st.caption(f"trace #{first['id']} · {first['status']}. Judge its claims on the Review page; follow the run on Generate.")
    st.page_link("pages/review.py", label="Review the explanations", icon=":material/rule:")


if shown:
    # Poll once a second only while the run is queued or running; once it has ended the page is still.
    polling = _demo_active(shown)
    if st.session_state.get("demo_reused"):
        st.info(f"The demo records were explained already (run #{shown}): shown below; nothing new was queued.")
    if not polling:
        st.button("Explain the demo records again (a new run)", on_click=_start_demo, args=(True,), key="demo_again")
    # Twice a second until the first graph is drawn (that wait is what a visitor watches), then once a second.
    every = (1.0 if st.session_state.get("demo_graph_key") else 0.5) if polling else None
    st.fragment(demo_progress, run_every=every)(shown, polling)

st.divider()
st.markdown("**Your own records**: Upload a JSON file, then Generate, Review, Compare and Export. "
            "The Status page says what is configured and what is missing.")
