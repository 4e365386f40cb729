"""Review: the queue (uncurated and conflicting first) and one trace at a time — graph, claims with
every verifier's verdict and evidence, per-claim accept/override, per-trace approve/reject/needs work."""
import pandas as pd
import streamlit as st

from pages.common import VERDICT_ICON, batch_options, curator, engine, through_app
from vcr_core import curation as cur
from vcr_core.formalism import Explanation
from vcr_core.verify.runner import all_verifier_names

through_app()
st.title("Review")

with st.expander("Filters", expanded=False):
    c = st.columns(4)
    batches = batch_options()
    f = cur.QueueFilters(
        batch_id=c[0].selectbox("Batch", [None] + list(batches), format_func=lambda b: "any" if b is None else batches[b]),
        run_id=c[1].number_input("Run id (0 = any)", 0, step=1) or None,
        trace_verdict=c[2].selectbox("Trace verdict", [None, "pass", "fail", "insufficient", "none"], format_func=lambda v: v or "any"),
        status=c[3].selectbox("Curation status", [None, "uncurated", "approve", "reject", "needs_work", "needs_review"],
                              format_func=lambda v: v or "any"),
    )
    c2 = st.columns(3)
    f.verifier = c2[0].selectbox("Has verdicts from", [None, *all_verifier_names()],
                                 format_func=lambda v: v or "any")
    f.model = c2[1].text_input("Model (exact)") or None
    f.curator = c2[2].text_input("Judged by curator") or None

page = st.session_state.get("queue_page", 0)
rows, total = cur.review_queue(engine(), f, page=page, page_size=25)
if not total:
    st.info("Nothing to review yet. Generate explanations (or import the original pipeline's outputs with "
            "`vcr import-traces`), then come back.")
    st.stop()
st.caption(f"{total} trace(s) in the queue · page {page + 1} of {(total - 1) // 25 + 1} · uncurated first, then conflicting")
queue = pd.DataFrame(rows)[["trace_id", "queue", "record", "model", "claims", "trace_verdict", "curation", "status"]]
st.dataframe(queue, hide_index=True, width="stretch", height=min(300, 40 + 35 * len(rows)))
pc = st.columns([1, 1, 6])
if pc[0].button("◀ Prev", disabled=page == 0):
    st.session_state["queue_page"] = page - 1
    st.rerun()
if pc[1].button("Next ▶", disabled=(page + 1) * 25 >= total):
    st.session_state["queue_page"] = page + 1
    st.rerun()

ids = [r["trace_id"] for r in rows]
default = st.session_state.get("trace_id") if st.session_state.get("trace_id") in ids else ids[0]
trace_id = st.selectbox("Trace", ids, index=ids.index(default), key="trace_pick",
                        format_func=lambda i: next(f"#{r['trace_id']} · {r['record']} · {r['queue']}" for r in rows if r["trace_id"] == i))
st.session_state["trace_id"] = trace_id

bundle = cur.trace_bundle(engine(), trace_id)
trace, record = bundle["trace"], bundle["record"]
states = cur.claim_states(engine(), trace_id)
expl = Explanation.model_validate(trace.explanation) if trace.explanation else None
tv = bundle["trace_verdict"]
st.subheader(f"{record.label}")
st.caption(f"trace #{trace.id} · run #{trace.run_id} · {trace.model or 'imported'} · status {trace.status} · "
           f"curation: {bundle['status']} · filter policy: {tv.verdict if tv else 'not verified'}"
           + (f" ({'; '.join((tv.summary or {}).get('reasons') or [])})" if tv and (tv.summary or {}).get("reasons") else ""))
from pages.assembled_section import claim_sources, trace_notes  # noqa: E402

trace_notes(trace)

# --- trace-level judgment (keyboard: a approve, x reject, w needs work, j next trace, k accept the next
# unjudged claim; Streamlit reserves c and r)
tc = st.columns([1.1, 1, 1.4, 1, 2.5])  # wide enough that "Needs work (w)" is not cut off


def _next_trace() -> None:
    """Select the trace after this one in the queue (a callback: it runs before the selectbox is drawn)."""
    st.session_state["trace_pick"] = ids[(ids.index(trace_id) + 1) % len(ids)]


tc[3].button("Next (j)", key="next_trace", shortcut="j", on_click=_next_trace, disabled=len(ids) < 2,
             help="the next trace in the queue")
note = tc[4].text_input("Note for the trace judgment", key=f"tnote_{trace_id}", label_visibility="collapsed",
                        placeholder="optional note for approve / reject / needs work")
for col, (label, judgment, key) in zip(tc[:3], [("Approve", "approve", "a"), ("Reject", "reject", "x"), ("Needs work", "needs_work", "w")]):
    if col.button(f"{label} ({key})", key=f"{judgment}_{trace_id}", shortcut=key, type="primary" if judgment == "approve" else "secondary"):
        try:
            cur.judge_trace(engine(), trace_id, curator(), judgment, note)
            st.toast(f"trace #{trace_id}: {judgment}")
            st.rerun()
        except cur.CurationError as exc:
            st.error(str(exc))

tabs = st.tabs(["Graph", "Claims", "Record", "Report & answer", "History"])
verdict_lines = {}
for stt in states:
    lines = [f"{v.verifier}: {v.verdict} ({v.score:.2f}) {v.message or ''}" for v in stt.verdicts]
    verdict_lines[stt.claim.node_id] = {"effective": stt.effective, "lines": lines, "curated": bool(stt.curations)}

with tabs[0]:
    if expl is None:
        st.warning("This trace has no explanation to draw.")
        st.text(trace.raw_output or "")
    else:
        from vcr_core.viz import action_graph_html
        # Our own page: every model-written string in it is escaped JSON data (see vcr_core.viz.graph).
        st.iframe(action_graph_html(expl, verdict_lines), height=540)
        st.caption("🟢 supported · 🔴 contradicted · ⚪ unverifiable · grey: not verified · dark border: curated · "
                   "dashed purple edges: correlative. Hover a node for its claim, verdicts and evidence.")

with tabs[1]:
    if not states:
        st.info("No claims in this trace.")
    unjudged = [s for s in states if not any(c.curator == curator() for c in s.curations)]
    if unjudged and st.button(f"Accept next unjudged claim ({unjudged[0].claim.node_id}) (k)", shortcut="k"):
        try:
            cur.judge_claim(engine(), unjudged[0].claim.id, curator(), "accept")
            st.rerun()
        except cur.CurationError as exc:
            st.error(str(exc))
    for stt in states:
        c = stt.claim
        with st.container(border=True):
            st.markdown(f"{VERDICT_ICON.get(stt.effective, '·')} **{c.node_id}** · `{c.action}` · effective: "
                        f"**{stt.effective or 'not verified'}** (machine: {stt.machine or '—'}"
                        f"{f', {stt.machine_score:.2f}' if stt.machine else ''})" + (" · ⚠️ conflicting" if stt.conflicting else ""))
            st.code(c.text, language=None, wrap_lines=True)
            claim_sources(trace, c.node_id)
            if stt.verdicts:
                st.dataframe(pd.DataFrame([{"verifier": v.verifier, "verdict": v.verdict, "score": round(v.score, 2),
                                            "message": v.message or ""} for v in stt.verdicts]), hide_index=True, width="stretch")
                for v in stt.verdicts:
                    for ev in (v.evidence or [])[:6]:
                        kind = ev.get("kind")
                        if kind == "pmid_sentence" and str(ev.get("pmid", "")).isdigit():
                            st.markdown(f"[PMID {ev['pmid']}](https://pubmed.ncbi.nlm.nih.gov/{ev['pmid']}/)")
                            st.text(ev.get("sentence", ""))
                        elif kind == "kg_edge":
                            st.text(f"graph edge: {ev.get('source')} —{ev.get('relation')}→ {ev.get('target')} ({ev.get('graph') or ''})")
                        elif kind == "expression":
                            st.text(f"expression: {ev.get('gene')} log2FC={ev.get('log2fc')} padj={ev.get('padj')} → {ev.get('call')}")
                        elif kind in ("ontology_term", "hpo_gene_phenotype", "hpo_disease_phenotype"):
                            st.text(f"HPO: {ev.get('id')} {ev.get('name') or ''} {ev.get('gene') or ev.get('disease') or ''} {ev.get('qualifier') or ''}")
                        elif kind == "go_annotation":
                            st.text(f"GO: {ev.get('gene')} {ev.get('go_id')} {ev.get('term')} [{ev.get('aspect')}, evidence "
                                    f"{ev.get('evidence_code')}] ({ev.get('how')}; {ev.get('source')})")
                        elif kind == "record_field":
                            st.text(f"record {ev.get('record')}: {ev.get('field')} = {ev.get('value')}"
                                    + (f" · moa_type: {ev['moa_type']}" if ev.get("moa_type") else ""))
                        elif kind == "indra_statement":
                            links = ", ".join(f"[{p}](https://pubmed.ncbi.nlm.nih.gov/{p}/)" for p in ev.get("pmids") or [] if str(p).isdigit())
                            st.markdown(f"INDRA: {ev.get('type')}({ev.get('subject')}, {ev.get('object')}) · "
                                        f"{ev.get('evidence_count')} evidence · belief {ev.get('belief')} {links}")
                        elif kind == "chembl_mechanism":
                            st.text(f"ChEMBL: {ev.get('action_type')} · {ev.get('mechanism_of_action')} · {ev.get('target_chembl_id')} "
                                    f"{ev.get('target_name')} ({', '.join(ev.get('genes') or [])})")
                        elif kind != "kg_pairs_checked":  # other evidence (falsification, rejected citations): shown as text
                            st.text(f"{kind or 'evidence'}: " + "; ".join(f"{k}={str(val)[:200]}" for k, val in ev.items() if k != "kind"))
            else:
                st.caption("No verifier has looked at this claim yet (run `vcr verify` or wait for the run's verification).")
            a, o = st.columns([1, 4])
            if a.button("Accept", key=f"accept_{c.id}"):
                try:
                    cur.judge_claim(engine(), c.id, curator(), "accept")
                    st.rerun()
                except cur.CurationError as exc:
                    st.error(str(exc))
            with o.popover("Override…"):
                with st.form(f"override_{c.id}"):
                    verdict = st.selectbox("Verdict", cur.VERDICTS, key=f"ov_v_{c.id}")
                    tag = st.selectbox("Reason", cur.REASON_TAGS, key=f"ov_t_{c.id}")
                    onote = st.text_input("Note", key=f"ov_n_{c.id}")
                    if st.form_submit_button("Save override"):
                        try:
                            cur.judge_claim(engine(), c.id, curator(), "override", verdict=verdict, tag=tag, note=onote)
                            st.rerun()
                        except cur.CurationError as exc:
                            st.error(str(exc))

with tabs[2]:
    st.json(record.raw or {})
    if record.preprocessed:
        st.caption("Preprocessing output")
        st.json(record.preprocessed)

with tabs[3]:
    if expl is not None and expl.answer:
        st.markdown("**Answer**")
        st.text(expl.answer)
    if trace.report:
        st.markdown("**Report**")
        st.markdown(trace.report)
    if expl is not None and expl.think:
        with st.expander("Model reasoning (think)"):
            st.text(expl.think)
    if trace.findings:
        st.markdown("**Findings**")
        st.dataframe(pd.DataFrame(trace.findings), hide_index=True, width="stretch")

with tabs[4]:
    hist = cur.history(engine(), trace_id)
    if not hist:
        st.caption("No judgments yet.")
    else:
        st.dataframe(pd.DataFrame([{"when": h.created_at, "curator": h.curator, "on": h.target if h.target == "trace" else f"claim {h.claim_snapshot.get('node_id') if h.claim_snapshot else h.claim_id}",
                                    "judgment": h.judgment, "verdict": h.verdict, "tag": h.tag, "note": h.note} for h in hist]),
                     hide_index=True, width="stretch")
