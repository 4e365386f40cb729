"""Generate: choose records, tools, model and mode; start runs; follow their progress live."""
import pandas as pd
import streamlit as st

from pages.common import batch_options, curator, engine, plain_md, through_app
from vcr_core.curation import run_record_rows
from vcr_core.files.ingest import record_labels

through_app()
st.title("Generate explanations")
batches = batch_options()
if not batches:
    st.info("No records yet. Upload a file (or the demo records) on the Upload page first.")
    st.stop()

from vcr_core.generation import DEFAULT_OPTIONS, cancel_run, create_run, list_runs, resume_run  # noqa: E402
from vcr_core.generation.runs import any_run_active, format_duration, run_failure_reasons  # noqa: E402
from vcr_core.jobs.inflight import describe  # noqa: E402
from vcr_core.kernel.settings import get_settings  # noqa: E402
from vcr_core.kernel.statuses import JobStatus
from vcr_core.llm import LOCAL_MODEL_DESCRIPTION, PROVIDER_DEFAULTS, local_status  # noqa: E402
from vcr_core.tools import tool_statuses  # noqa: E402

with st.form("new_run"):
    batch_id = st.selectbox("Batch", list(batches), format_func=batches.get)
    recs = record_labels(engine(), batch_id=batch_id)
    chosen = st.multiselect("Records (empty: the whole batch)", list(recs), format_func=recs.get)
    max_items = st.number_input("At most this many records (0 = all)", 0, 100000, 0,
                                help="Handy for a first look; the Runs panel below shows the measured time per record")
    st.markdown("**Tools**")
    statuses = tool_statuses()
    tools = []
    for name, stt in statuses.items():
        label = f"{name} — {'available' if stt.available else 'unavailable'}"
        # Available tools are ticked: their context is stored with every trace (and given to a model).
        if st.checkbox(label, value=stt.available, disabled=not stt.available, key=f"tool_{name}",
                       help=stt.detail if stt.available else stt.reason):
            tools.append(name)
        if not stt.available:
            st.caption(f"{name}: {plain_md(stt.reason)}")
    preprocess = st.checkbox("Find entities first (NER + PubChem) for records not yet preprocessed", value=True,
                             help="The tools then match entities (genes, drugs, diseases, cell lines) to the graph and the "
                                  "literature; without it they use each record's own fields. Stored with the record, done once. "
                                  "PubChem allows 5 requests per second: online, about half a second per new chemical.")
    keys = get_settings().provider_keys()
    # With a key, the LLM agents are the default; without one, assembly from knowledge (no model).
    providers = [p for p, ok in keys.items() if ok] + ["knowledge", "local"]
    labels = {"knowledge": "assembled from knowledge (no model, seconds a record)",
              "local": "embedded local model (tiny demo, optional)"}
    provider = st.selectbox("Model provider", providers, format_func=lambda p: labels.get(p, f"{p} (key present)"), key="provider",
                            help="Without an API key, explanations are assembled from the record, the knowledge graph, "
                                 "Gene Ontology and ChEBI by rules; with a key, a model writes them.")
    if provider == "knowledge":
        st.info("Assembled from knowledge bases, not reasoned by a model: it restates known biology about the "
                "record's targets, every claim names its source, and inferences are labelled as such.")
    if provider == "local":
        st.info(LOCAL_MODEL_DESCRIPTION)
        lst = local_status()
        if not lst.installed:
            st.warning(lst.message)
    model = st.text_input("Model (optional litellm name)", value=PROVIDER_DEFAULTS.get(provider, ""),
                          disabled=provider in ("local", "knowledge"))
    mode = st.selectbox("Mode", ["explain-only", "report-explain"],
                        help="report-explain writes a report first; explain-only goes straight to the explanation")
    c1, c2, c3 = st.columns(3)
    kg_with_rel = c1.checkbox("kg_with_rel", help="add one-hop neighbours of matched graph nodes")
    kg_num_neighbor = c2.number_input("kg_num_neighbor", 1, 50, DEFAULT_OPTIONS["kg_num_neighbor"])
    concurrency = c3.number_input("concurrency", 1, 64, 1 if provider == "local" else 8)
    started = st.form_submit_button("Start run", type="primary")

if started:
    try:
        run_id = create_run(engine(), batch_id=batch_id, record_ids=chosen or None, tools=tools, model_type=provider,
                            model=(model.strip() or None) if provider not in ("local", "knowledge") else None, mode=mode, created_by=curator() or None,
                            options={"kg_with_rel": kg_with_rel, "kg_num_neighbor": int(kg_num_neighbor),
                                     "concurrency": int(concurrency), "max_items": int(max_items) or None,
                                     "preprocess": "ner-pubchem" if preprocess else None})
        st.success(f"Run #{run_id} queued. Progress appears below; you may leave this page.")
    except ValueError as exc:
        st.error(str(exc))


def _runs_active() -> bool:
    """Is any run queued or running? One small query: the panel polls only then."""
    return any_run_active(engine())


POLLING = _runs_active()


@st.fragment(run_every=2 if POLLING else None)  # poll only while a run is active (a new run's rerun starts it)
def progress_panel() -> None:
    if POLLING and not _runs_active():
        st.rerun()  # the last run ended: draw the page again, without polling
    runs = list_runs(engine(), limit=15)
    if not runs:
        st.caption("No runs yet.")
        return
    for r in runs:
        with st.container(border=True):
            # The model name is typed by a user and errors may quote a model: everything written by a
            # user or a model is plain text here (plain_md in Markdown, st.text elsewhere).
            st.markdown(f"**Run #{r['id']}** · {r['status']} · {plain_md(r['model'] or 'no model')} · {plain_md(r['mode'])} · "
                        f"tools: {plain_md(', '.join(r['tools']) or 'none')}")
            st.progress(min(1.0, r["fraction"]), text=f"{r['n_done']}/{r['n_total']} records · {r['n_ok']} valid · "
                        f"{r['n_invalid']} invalid · {r['n_failed']} failed · {r['prompt_tokens'] + r['completion_tokens']} tokens · "
                        f"${r['cost_usd']:.4f}")
            if r["active"] and r["job"] and r["job"]["message"]:
                st.caption(plain_md(r["job"]["message"]))
            if r["active"]:
                # Per record in flight: stage, model call, attempt k of n, seconds, tokens (from the worker's heartbeat).
                for item in r.get("in_flight") or []:
                    st.text(f"▶ {item['label']}: {describe(item)}")
                if r["eta_s"] is not None:
                    st.caption(f"about {format_duration(r['eta_s'])} left (measured: {format_duration(r['seconds_per_record'])} "
                               "per record so far)")
                elif r["status"] == JobStatus.RUNNING:
                    st.caption("no time estimate yet: it is measured once the first record is done")
            elif r.get("seconds_per_record"):
                st.caption(f"took {format_duration(r['elapsed_s'])} ({format_duration(r['seconds_per_record'])} per record, measured)")
            if r.get("model_note"):
                st.caption(plain_md(r["model_note"]))
            if r.get("error"):
                st.error("error: " + plain_md(r["error"]))
            if r["n_failed"] or r["n_invalid"]:
                with st.expander(f"Failed or incomplete records ({r['n_failed'] + r['n_invalid']}): full reasons"):
                    for f in run_failure_reasons(engine(), r["id"]):
                        st.markdown(f"**{plain_md(f['record'])}** · trace #{f['trace']} · {plain_md(f['status'])}")
                        for line in f["errors"] + f["findings"]:
                            st.text(line)
            if r.get("verify_job"):
                st.caption(f"verification: {plain_md(r['verify_job']['status'])}")
            if r["active"] or r is runs[0]:
                with st.expander("Per record"):
                    st.dataframe(pd.DataFrame(run_record_rows(engine(), r["id"])), hide_index=True, width="stretch")
            c1, c2 = st.columns(2)
            if r["active"] and c1.button("Cancel", key=f"cancel_{r['id']}"):
                cancel_run(engine(), r["id"])
            if r["status"] in (JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.QUEUED) and c2.button("Resume", key=f"resume_{r['id']}"):
                resume_run(engine(), r["id"])


st.subheader("Runs")
progress_panel()
