"""Review: queues (my queue, second opinions, conflicts, or the filtered table) and one trace at a time —
graph, claims with every verifier's verdict and evidence, per-claim accept/override, per-trace
approve/reject/needs work. Judgments run in fragments (a click reruns the claim, not the page and its
graph) and carry the state version the curator saw, so a judgment on a stale state is refused."""
import pandas as pd
import streamlit as st

from pages.common import VERDICT_ICON, batch_options, code_md, curator, engine, plain_md, through_app
from pages.evidence_view import show_evidence
from vcr_core import curation as cur
from vcr_core.formalism import Explanation
from vcr_core.formalism.catalogue import SCOPE_TEXT, SCOPES
from vcr_core.kernel.failures import one_line as _one_line
from vcr_core.kernel.identity import same_curator
from vcr_core.kernel.statuses import (
    ClaimJudgment,
    CurationState,
    TraceJudgment,
    TraceStatus,
)
from vcr_core.verify.policy import TRACE_VERDICTS
from vcr_core.verify.runner import all_verifier_names
from vcr_core.viz import action_graph_html, biology_label, frame_height

through_app()
st.title("Review")
PAGE_SIZE = 25
MODES = {"table": "Queue table (filters)", "mine": "My queue", "second": "Needs a second opinion", "conflicts": "Conflicts"}

me = curator()
counts = cur.queue_counts(engine(), me) if me else {}
mode = st.segmented_control("Work from", list(MODES), default="table", key="queue_mode",
                            format_func=lambda m: MODES[m] + (f" ({counts[m]})" if m in counts else "")) or "table"

if mode == "table":
    # Filters in a form: nothing reruns until Apply, and applying starts again at the first page.
    with st.expander("Filters", expanded=False), st.form("filters"):
        c = st.columns(4)
        batches = batch_options()
        batch_id = c[0].selectbox("Batch", [None] + list(batches), format_func=lambda b: "any" if b is None else batches[b])
        run_id = c[1].number_input("Run id (0 = any)", 0, step=1) or None
        trace_verdict = c[2].selectbox("Trace verdict", [None, *TRACE_VERDICTS, "none"], format_func=lambda v: v or "any")
        status = c[3].selectbox("Curation status", [None] + list(cur.TRACE_STATUSES), format_func=lambda v: v or "any")
        c2 = st.columns(3)
        verifier = c2[0].selectbox("Has verdicts from", [None, *all_verifier_names()], format_func=lambda v: v or "any")
        model = c2[1].text_input("Model (exact)") or None
        judged_by = c2[2].text_input("Judged by curator") or None
        if st.form_submit_button("Apply filters"):
            st.session_state["queue_filters"] = cur.QueueFilters(batch_id=batch_id, run_id=run_id, trace_verdict=trace_verdict,
                                                                 status=status, verifier=verifier, model=model, curator=judged_by)
            st.session_state["queue_page"] = 0
    f = st.session_state.get("queue_filters") or cur.QueueFilters()
    page = st.session_state.get("queue_page", 0)
    rows, total = cur.review_queue(engine(), f, page=page, page_size=PAGE_SIZE)
    if not total:
        st.info("Nothing to review with these filters. Generate explanations (or import the original pipeline's outputs "
                "with `vcr import-traces`), or change the filters.")
        st.stop()
    page = min(page, (total - 1) // PAGE_SIZE)  # the filters may have shrunk the queue below this page
    st.session_state["queue_page"] = page
    st.caption(f"{total} trace(s) in the queue · page {page + 1} of {(total - 1) // PAGE_SIZE + 1} · uncurated first, then conflicting")
    queue = pd.DataFrame(rows).reindex(columns=["trace_id", "queue", "record", "model", "claims", "trace_verdict", "curation", "status"])
    st.dataframe(queue, hide_index=True, width="stretch", height=min(300, 40 + 35 * len(rows)))
    pc = st.columns([1, 1, 6])
    if pc[0].button("◀ Prev", disabled=page == 0):
        st.session_state["queue_page"] = page - 1
        st.rerun()
    if pc[1].button("Next ▶", disabled=(page + 1) * PAGE_SIZE >= total):
        st.session_state["queue_page"] = page + 1
        st.rerun()
    ids = [r["trace_id"] for r in rows]
    labels = {r["trace_id"]: f"#{r['trace_id']} · {r['record']} · {r['queue']}" for r in rows}
else:
    if not me:
        st.error("Enter your curator name (sidebar) to get your own queue.")
        st.stop()
    held = st.session_state.get(f"held_{mode}")
    if held is None or st.session_state.pop("advance_queue", False):
        held = cur.next_trace(engine(), me, mode, skip=st.session_state.get("skipped", set()))
        st.session_state[f"held_{mode}"] = held
    if held is None:
        st.info({"mine": "Nothing left for you to judge: every trace is judged or someone else is on it.",
                 "second": "No trace waits for a second opinion from you.",
                 "conflicts": "No conflicts."}[mode])
        st.stop()
    st.caption(f"{MODES[mode]} · {counts.get(mode, 0)} trace(s) waiting · this trace is leased to you: nobody else is handed it "
               "while you work on it")
    ids = [held]
    labels = {held: f"#{held}"}

if st.session_state.get("trace_pick") not in ids:
    st.session_state["trace_pick"] = st.session_state.get("trace_id") if st.session_state.get("trace_id") in ids else ids[0]
# No index=: the selection lives only in session state (a default plus a session-state value warns).
trace_id = st.selectbox("Trace", ids, key="trace_pick", format_func=lambda i: labels.get(i, f"#{i}"),
                        disabled=mode != "table")
st.session_state["trace_id"] = trace_id

bundle = cur.trace_bundle(engine(), trace_id)
trace, record = bundle["trace"], bundle["record"]
states = cur.claim_states(engine(), trace_id)
expl = Explanation.model_validate(trace.explanation) if trace.explanation else None
tv = bundle["trace_verdict"]
tstate = cur.trace_state(engine(), trace_id)
st.subheader(plain_md(record.label))  # an upload wrote the label: shown as typed, never as Markdown
st.caption(f"trace #{trace.id} · run #{trace.run_id} · {plain_md(trace.model or 'imported')} · status {trace.status} · "
           f"curation: {tstate['status']} · filter policy: {tv.verdict if tv else 'not verified'}"
           + (f" ({'; '.join((tv.summary or {}).get('reasons') or [])})" if tv and (tv.summary or {}).get("reasons") else ""))
holder = cur.lease_holder(engine(), trace_id)
if holder and not same_curator(holder, me):
    st.info(f"{plain_md(holder)} is working on this trace (taken from their queue).")
if trace.status != TraceStatus.OK:
    why = "; ".join(str(e) for e in (trace.errors or [])) or "; ".join(
        str(f.get("message", f)) for f in (trace.findings or []) if isinstance(f, dict)) or "no reason was recorded"
    st.error(f"This trace {'failed' if trace.status == TraceStatus.FAILED else 'did not pass validation'}. Why:")
    st.text(why)
_trace_disagreement = cur.disagreement(tstate["opinions"], "judgment", cur.consensus_rule())
if _trace_disagreement and tstate["status"] != CurationState.CONFLICT:  # under CONSENSUS=one the latest decided: say who disagreed
    st.info(f"Curators disagree on this trace: {plain_md(_trace_disagreement)}")
if tstate["status"] in (CurationState.CONFLICT, CurationState.NEEDS_SECOND):
    view = cur.conflict_view(engine(), trace_id)
    st.warning("Curators disagree on this trace: their judgments side by side with the machine's." if tstate["status"] == CurationState.CONFLICT
               else "One curator judged this trace; the consensus rule needs a second who agrees.")
    if view["trace_opinions"]:
        st.dataframe(pd.DataFrame([{"curator": k, "trace judgment": o.get("judgment"), "note": o.get("note") or ""}
                                   for k, o in view["trace_opinions"].items()]), hide_index=True)
    if view["claims"]:
        st.dataframe(pd.DataFrame(view["claims"]), hide_index=True, width="stretch")

from pages.assembled_section import claim_sources, trace_notes  # noqa: E402

trace_notes(trace)

# --- trace-level judgment (keyboard: a approve, x reject, w needs work, j next trace, k accept the next
# unjudged claim; Streamlit reserves c and r)
def _judge_trace(judgment: str, seen: int, confirmed: bool = False) -> None:
    """A callback: it runs before the page is drawn again, so the page shows the new state."""
    st.session_state.pop("trace_msg", None)
    if not curator():
        st.session_state["trace_msg"] = ("error", "enter your curator name (or log in) before judging")
        return
    if judgment == TraceJudgment.APPROVE and not confirmed:
        reasons = cur.approval_doubts(engine(), trace_id)
        if reasons:
            st.session_state["confirm_approve"] = (trace_id, seen, reasons)
            return
    st.session_state.pop("confirm_approve", None)
    try:
        cur.judge_trace(engine(), trace_id, curator(), judgment, st.session_state.get(f"tnote_{trace_id}") or None,
                        seen_version=seen)
        st.session_state["trace_msg"] = ("success", f"trace #{trace_id}: {judgment}")
        if mode != "table":
            st.session_state["advance_queue"] = True
    except cur.StaleJudgment as exc:
        st.session_state["trace_msg"] = ("warning", f"{exc} (now: {exc.current.get('status')})")
    except cur.CurationError as exc:
        st.session_state["trace_msg"] = ("error", str(exc))
    except Exception as exc:  # a full disk, a database that refuses the text: one line, nothing half-stored
        st.session_state["trace_msg"] = ("error", _one_line(exc))


def _next_trace() -> None:
    """Select the trace after this one (a callback: it runs before the selectbox is drawn)."""
    if mode == "table":
        st.session_state["trace_pick"] = ids[(ids.index(trace_id) + 1) % len(ids)]
    else:
        if curator():
            cur.release_lease(engine(), trace_id, curator())
        st.session_state.setdefault("skipped", set()).add(trace_id)  # skipped: not handed back this session
        st.session_state["advance_queue"] = True


tc = st.columns([1.1, 1, 1.4, 1, 2.5])  # wide enough that "Needs work (w)" is not cut off
tc[3].button("Next (j)", key="next_trace", shortcut="j", on_click=_next_trace, disabled=mode == "table" and len(ids) < 2,
             help="the next trace in the queue")
tc[4].text_input("Note for the trace judgment", key=f"tnote_{trace_id}", label_visibility="collapsed",
                 placeholder="optional note for approve / reject / needs work")
for col, (label, judgment, key) in zip(tc[:3], [("Approve", "approve", "a"), ("Reject", "reject", "x"), ("Needs work", "needs_work", "w")]):
    col.button(f"{label} ({key})", key=f"{judgment}_{trace_id}", shortcut=key, on_click=_judge_trace,
               args=(judgment, tstate["version"]), type="primary" if judgment == TraceJudgment.APPROVE else "secondary")
pending = st.session_state.get("confirm_approve")
if pending and pending[0] == trace_id:
    st.warning(f"Approve anyway? {plain_md(pending[2])}.")
    st.button("Approve anyway", key=f"approve_confirm_{trace_id}", on_click=_judge_trace, args=("approve", pending[1], True))
msg = st.session_state.pop("trace_msg", None)
if msg:  # messages quote curator names and node ids: plain text
    getattr(st, msg[0])(plain_md(msg[1]))

tabs = st.tabs(["Graph", "Claims", "Record", "Report & answer", "History"])
verdict_lines = cur.graph_verdicts(states)

with tabs[0]:
    if expl is None:
        st.warning("This trace has no explanation to draw.")
        st.text(trace.raw_output or "")
    else:
        # Our own page: every model-written string in it is escaped JSON data (see vcr_core.viz.graph). Built
        # once per trace and state (a judgment changes a verdict colour): switching back is not rebuilt.
        sig = (trace_id, tuple(sorted((k, v["effective"], v["curated"], tuple(v["lines"])) for k, v in verdict_lines.items())))
        cache = st.session_state.setdefault("graph_pages", {})
        if sig not in cache:
            if len(cache) > 20:
                cache.clear()
            cache[sig] = action_graph_html(expl, verdict_lines)
        st.iframe(cache[sig], height=frame_height(expl))
        st.caption("Fill: 🟢 supported · 🔴 contradicted · ⚪ unverifiable · grey: not verified · shadow: curated · "
                   "border and shape: kind of step (legend above the graph) · dashed purple edges: correlative. "
                   "Hover a node for its claim, verdicts and evidence.")


def _judge_claim(claim_id: int, judgment: str, seen: int, **kw) -> None:
    st.session_state.pop(f"claim_msg_{claim_id}", None)
    st.session_state[f"claim_dirty_{claim_id}"] = True  # its card reads its state again
    try:
        if judgment == ClaimJudgment.OVERRIDE:
            kw = {"verdict": st.session_state.get(f"ov_v_{claim_id}"), "tag": st.session_state.get(f"ov_t_{claim_id}"),
                  "note": st.session_state.get(f"ov_n_{claim_id}"), "scope": st.session_state.get(f"ov_s_{claim_id}"),
                  "scope_reason": st.session_state.get(f"ov_r_{claim_id}")}
        cur.judge_claim(engine(), claim_id, curator(), judgment, seen_version=seen, **kw)
    except cur.StaleJudgment as exc:
        now = "; ".join(f"{k}: {o.get('judgment')} {o.get('verdict') or ''}" for k, o in (exc.current.get("opinions") or {}).items())
        st.session_state[f"claim_msg_{claim_id}"] = ("warning", f"{exc}. Now: {now}")
    except cur.CurationError as exc:
        st.session_state[f"claim_msg_{claim_id}"] = ("error", str(exc))
    except Exception as exc:  # a full disk, a database that refuses the text: one line
        st.session_state[f"claim_msg_{claim_id}"] = ("error", _one_line(exc))


def _reground(claim_id: int, argument: str, name: str, key: str) -> None:
    """A callback: re-ground one entity of a claim (a judgment; its verdicts are recomputed)."""
    st.session_state.pop(f"claim_msg_{claim_id}", None)
    st.session_state[f"claim_dirty_{claim_id}"] = True
    typed = (st.session_state.get(f"{key}_id") or "").strip()
    identifier = typed or st.session_state.get(f"{key}_pick")
    try:
        if not identifier:
            raise cur.CurationError("choose a candidate or type namespace:identifier (nothing was stored)")
        cur.reground_claim(engine(), claim_id, curator(), argument, name, identifier,
                           reason=st.session_state.get(f"{key}_why"))
        st.session_state[f"claim_msg_{claim_id}"] = ("success", f"{argument} = {name} re-grounded to {identifier}; "
                                                                 "its verdicts were recomputed")
        st.session_state["reground_rerun"] = True  # the graph and the trace's filter verdict follow
    except cur.CurationError as exc:
        st.session_state[f"claim_msg_{claim_id}"] = ("error", str(exc))
    except Exception as exc:  # a verifier or the database failing: one line, nothing stored (one transaction)
        st.session_state[f"claim_msg_{claim_id}"] = ("error", _one_line(exc))


def grounding_section(stt: "cur.ClaimState") -> None:
    """Each entity argument with its stored grounding, and a small Re-ground form beside it."""
    rows = cur.grounding_lines(stt.claim)
    if not rows:
        st.caption("Grounding: not computed yet for this claim (it is stored at save; older claims get it on first use).")
        return
    st.caption("Grounding (what each entity argument stands for; the verifiers read it)")
    for i, row in enumerate(rows):
        key = f"rg_{stt.claim.id}_{i}"
        left, right = st.columns([5, 1])
        left.text(row["line"])  # model-written names: plain text
        with right.popover("Re-ground"), st.form(key):
            current = (row["entity"] or {}).get("identifier")
            options = cur.candidates_from_evidence(stt.verdicts, row["argument"], row["name"], current)
            st.selectbox("Candidate", [o["identifier"] for o in options], key=f"{key}_pick", index=None,
                         placeholder="a candidate the verifiers found" if options else "no other candidate found",
                         format_func=lambda ident, o={x["identifier"]: x for x in options}: f"{ident} ({o[ident].get('canonical') or ''}; {o[ident]['method']})")
            st.text_input("or namespace:identifier", key=f"{key}_id", placeholder="HGNC:6307, CHEBI:45783, GO:0006915")
            st.text_input("Reason", key=f"{key}_why")
            st.form_submit_button("Re-ground", on_click=_reground, args=(stt.claim.id, row["argument"], row["name"], key))


@st.fragment
def claim_card(claim_id: int, drawn: "cur.ClaimState") -> None:
    """One claim: a one-line summary with accept / override always in view, and its statement, sources,
    verdicts and evidence in a collapsible section (reruns alone). ``drawn`` is the state the page read
    for every claim at once; the card reads its own again only after a judgment on it."""
    stt = drawn
    if st.session_state.pop(f"claim_dirty_{claim_id}", False):
        stt = next((s for s in cur.claim_states(engine(), trace_id) if s.claim.id == claim_id), None)
    if stt is None:
        return
    c = stt.claim
    with st.container(border=True):
        node = next((n for n in (expl.nodes if expl else []) if n.id == c.node_id), None)
        said = f" · {plain_md(biology_label(node, expl))}" if node is not None else ""
        st.markdown(f"{VERDICT_ICON.get(stt.effective, '·')} **{plain_md(c.node_id)}**{said} · {code_md(c.action)} · effective: "
                    f"**{stt.effective or 'not verified'}** (machine: {stt.machine or '—'}"
                    f"{f', {stt.machine_score:.2f}' if stt.machine else ''})" + (" · ⚠️ curators disagree" if stt.conflicting
                                                                                else " · ✎ overrides the machine" if stt.overrides_machine else ""))
        if stt.opinions:
            st.caption(plain_md(stt.who()) + (f" · {stt.state_status.replace('_', ' ')}" if stt.state_status != CurationState.DECIDED else ""))
            if stt.disagreement():
                st.caption(plain_md(stt.disagreement()))
        if stt.decided_by:
            st.caption("🔁 " + plain_md(stt.decided_by))
        a, o = st.columns([1, 4])
        a.button("Accept", key=f"accept_{c.id}", on_click=_judge_claim, args=(c.id, "accept", stt.version))
        with o.popover("Override…"):
            with st.form(f"override_{c.id}"):
                # No verdict is chosen for the curator: an override says what they decided, never a default.
                st.selectbox("Verdict", cur.VERDICTS, key=f"ov_v_{c.id}", index=None, placeholder="choose a verdict")
                st.selectbox("Reason", cur.REASON_TAGS, key=f"ov_t_{c.id}", index=None, placeholder="choose a reason")
                st.text_input("Note", key=f"ov_n_{c.id}")
                st.selectbox("Scope", [None, *SCOPES], key=f"ov_s_{c.id}",
                             format_func=lambda s: "the primitive's" if s is None else SCOPE_TEXT[s])
                st.text_input("Reason for another scope", key=f"ov_r_{c.id}")
                st.form_submit_button("Save override", on_click=_judge_claim, args=(c.id, "override", stt.version))
        if me in stt.opinions:
            a.button("Revoke", key=f"revoke_{c.id}", on_click=_judge_claim, args=(c.id, "revoke", stt.version),
                     help="withdraw your judgment (and what it decided elsewhere)")
        if st.session_state.pop("reground_rerun", False):
            st.rerun()  # a re-grounding changed verdicts: the whole page (graph, trace verdict) is drawn again
        msg = st.session_state.pop(f"claim_msg_{c.id}", None)
        if msg:
            getattr(st, msg[0])(plain_md(msg[1]))
        n_verdicts = len(stt.verdicts)
        with st.expander(f"Claim, sources and evidence ({n_verdicts} verdict{'s' if n_verdicts != 1 else ''})"):
            st.code(c.text, language=None, wrap_lines=True)
            grounding_section(stt)
            claim_sources(trace, c.node_id)
            if stt.verdicts:
                # Plain text lines, not a table: twenty small tables per trace made switching trace slow.
                st.text("\n".join(f"{v.verifier}: {v.verdict} ({v.score:.2f}){' · ' + v.message if v.message else ''}"
                                   for v in stt.verdicts))
                for v in stt.verdicts:
                    show_evidence(v.evidence)
            else:
                st.caption("No verifier has looked at this claim yet (run `vcr verify` or wait for the run's verification).")


with tabs[1]:
    if not states:
        st.info("No claims in this trace.")
    unjudged = [s for s in states if me not in s.opinions]
    if unjudged:
        st.button(f"Accept next unjudged claim ({unjudged[0].claim.node_id}) (k)", shortcut="k", on_click=_judge_claim,
                  args=(unjudged[0].claim.id, "accept", unjudged[0].version))
    for stt in states:
        claim_card(stt.claim.id, stt)

with tabs[2]:
    st.json(record.raw or {})
    if record.preprocessed:
        st.caption("Preprocessing output")
        st.json(record.preprocessed)

with tabs[3]:
    # Model-written text: shown as plain text (a link or heading a model wrote stays text).
    if expl is not None and expl.answer:
        st.markdown("**Answer**")
        st.text(expl.answer)
    if trace.report:
        st.markdown("**Report**")
        st.text(trace.report)
    if expl is not None and expl.think:
        with st.expander("Model reasoning (think)"):
            st.text(expl.think)
    if trace.findings:
        st.markdown("**Findings**")
        st.dataframe(pd.DataFrame(trace.findings), hide_index=True, width="stretch")

def _grounding_change(h) -> str:
    """"target = ABL1: HGNC:76 → HGNC:6307" for a re-grounding in the history, else empty."""
    snap = h.claim_snapshot or {}
    if h.target != "grounding":
        return ""
    return f"{snap.get('argument')} = {snap.get('name')}: {(snap.get('old') or {}).get('identifier')} → {(snap.get('new') or {}).get('identifier')}"


with tabs[4]:
    hist = cur.history(engine(), trace_id)
    if not hist:
        st.caption("No judgments yet.")
    else:
        st.dataframe(pd.DataFrame([{"when": h.created_at, "curator": h.curator, "on": h.target if h.target == "trace" else f"claim {h.claim_snapshot.get('node_id') if h.claim_snapshot else h.claim_id}",
                                    "judgment": h.judgment, "verdict": h.verdict, "tag": h.tag, "note": h.note,
                                    "grounding": _grounding_change(h)} for h in hist]),
                     hide_index=True, width="stretch")
