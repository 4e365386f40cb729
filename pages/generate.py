"""Generate: choose records, tools, model and mode; start runs; follow their progress live."""
import pandas as pd
import streamlit as st
from sqlmodel import Session, select

from pages.common import batch_options, curator, engine, through_app
from vcr_core.curation import run_record_rows
from vcr_core.store import Record

through_app()
st.title("Generate explanations")
batches = batch_options()
if not batches:
    st.info("No records yet. Upload a file (or the demo records) on the Upload page first.")
    st.stop()

from vcr_core.jobs import cancel_run, create_run, list_runs, resume_run  # noqa: E402
from vcr_core.llm import LOCAL_MODEL_DESCRIPTION, PROVIDER_DEFAULTS  # noqa: E402
from vcr_core.settings import get_settings  # noqa: E402
from vcr_core.tools import tool_statuses  # noqa: E402

with st.form("new_run"):
    batch_id = st.selectbox("Batch", list(batches), format_func=batches.get)
    with Session(engine()) as s:
        recs = s.exec(select(Record).where(Record.batch_id == batch_id).order_by(Record.position)).all()
    chosen = st.multiselect("Records (empty: the whole batch)", [r.id for r in recs],
                            format_func={r.id: f"{r.index}: {r.label}" for r in recs}.get)
    max_items = st.number_input("At most this many records (0 = all)", 0, 100000, 0,
                                help="Handy for a first look: the local model takes ~20 s per record")
    st.markdown("**Tools**")
    statuses = tool_statuses()
    tools = []
    for name, stt in statuses.items():
        label = f"{name} — {'available' if stt.available else 'unavailable'}"
        if st.checkbox(label, value=False, disabled=not stt.available, key=f"tool_{name}",
                       help=stt.detail if stt.available else stt.reason):
            tools.append(name)
        if not stt.available:
            st.caption(f"{name}: {stt.reason}")
    preprocess = st.checkbox("Find entities first (NER + PubChem) for records not yet preprocessed", value=True,
                             help="The tools then match entities (genes, drugs, diseases, cell lines) to the graph and the "
                                  "literature; without it they use each record's own fields. Stored with the record, done once. "
                                  "PubChem allows 5 requests per second: online, about half a second per new chemical.")
    keys = get_settings().provider_keys()
    providers = ["local"] + [p for p, ok in keys.items() if ok]
    provider = st.selectbox("Model provider", providers,
                            format_func=lambda p: "embedded local model (tiny demo)" if p == "local" else f"{p} (key present)")
    if provider == "local":
        st.info(LOCAL_MODEL_DESCRIPTION)
    model = st.text_input("Model (optional litellm name)", value="" if provider == "local" else PROVIDER_DEFAULTS.get(provider, ""))
    mode = st.selectbox("Mode", ["explain-only", "report-explain"],
                        help="report-explain writes a report first; explain-only goes straight to the explanation")
    c1, c2, c3 = st.columns(3)
    kg_with_rel = c1.checkbox("kg_with_rel", help="add one-hop neighbours of matched graph nodes")
    kg_num_neighbor = c2.number_input("kg_num_neighbor", 1, 50, 5)
    concurrency = c3.number_input("concurrency", 1, 64, 1 if provider == "local" else 8)
    started = st.form_submit_button("Start run", type="primary")

if started:
    try:
        run_id = create_run(engine(), batch_id=batch_id, record_ids=chosen or None, tools=tools, model_type=provider,
                            model=model.strip() or None, mode=mode, created_by=curator() or None,
                            options={"kg_with_rel": kg_with_rel, "kg_num_neighbor": int(kg_num_neighbor),
                                     "concurrency": int(concurrency), "max_items": int(max_items) or None,
                                     "preprocess": "ner-pubchem" if preprocess else None})
        st.success(f"Run #{run_id} queued. Progress appears below; you may leave this page.")
    except ValueError as exc:
        st.error(str(exc))


def _runs_active() -> bool:
    """Is any run queued or running? One small query: the panel polls only then."""
    from vcr_core.jobs.queue import ACTIVE
    from vcr_core.store import Run
    with Session(engine()) as s:
        return s.exec(select(Run.id).where(Run.status.in_(ACTIVE)).limit(1)).first() is not None


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
            st.markdown(f"**Run #{r['id']}** · {r['status']} · {r['model']} · {r['mode']} · tools: {', '.join(r['tools']) or 'none'}")
            st.progress(min(1.0, r["fraction"]), text=f"{r['n_done']}/{r['n_total']} records · {r['n_ok']} valid · "
                        f"{r['n_invalid']} invalid · {r['n_failed']} failed · {r['prompt_tokens'] + r['completion_tokens']} tokens · "
                        f"${r['cost_usd']:.4f}")
            if r["active"] and r["job"] and r["job"]["message"]:
                st.caption(r["job"]["message"])
            if r.get("model_note"):
                st.caption(r["model_note"])
            if r.get("error"):
                st.text(f"error: {r['error']}")
            if r.get("verify_job"):
                st.caption(f"verification: {r['verify_job']['status']}")
            if r["active"] or r is runs[0]:
                with st.expander("Per record"):
                    st.dataframe(pd.DataFrame(run_record_rows(engine(), r["id"])), hide_index=True, width="stretch")
            c1, c2 = st.columns(2)
            if r["active"] and c1.button("Cancel", key=f"cancel_{r['id']}"):
                cancel_run(engine(), r["id"])
            if r["status"] in ("cancelled", "failed", "queued") and c2.button("Resume", key=f"resume_{r['id']}"):
                resume_run(engine(), r["id"])


st.subheader("Runs")
progress_panel()
