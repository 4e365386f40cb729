"""What the team knows: every judged claim core (verdict, curators, evidence, traces decided) with its
exports, the cores still to judge (most traces first), and one core with all its occurrences, judged at once."""
import pandas as pd
import streamlit as st

from pages.common import curator, engine, plain_md, through_app
from vcr_core.curation import knowledge, reuse
from vcr_core.curation.consensus import CurationError
from vcr_core.formalism.catalogue import SCOPE_TEXT, SCOPES
from vcr_core.verify.base import VERDICTS

through_app()
st.title("What the team knows")
eng = engine()
rows = knowledge.judged_cores(eng)
st.caption(f"{len(rows)} judged claim core(s). A judgment decides every claim with the same core (primitive, grounded "
           "entities, direction) in its scope; `vcr knowledge export` / `import` carry this to another database.")
if rows:
    st.dataframe(pd.DataFrame([{"primitive": r["primitive"], "entities": "; ".join(f"{a}={', '.join(map(str, v))}" for a, v in r["names"].items()),
                                "direction": r["direction"] or "", "verdict": r["verdict"] or r["status"], "status": r["status"],
                                "curators": ", ".join(r["curators"]), "traces decided": r["traces_decided"],
                                "evidence": "; ".join(f"{k}×{n}" for k, n in r["evidence"].items())} for r in rows]),
                 hide_index=True, width="stretch")
    c = st.columns(2)
    c[0].download_button("JSONL (importable)", data=lambda: knowledge.export_knowledge(eng, "jsonl"), file_name="team-knowledge.jsonl",
                         mime="application/jsonl", on_click="ignore", key="kn_jsonl")
    c[1].download_button("CSV", data=lambda: knowledge.export_knowledge(eng, "csv"), file_name="team-knowledge.csv", mime="text/csv",
                         on_click="ignore", key="kn_csv")
conflicts = reuse.core_conflicts(eng)
if conflicts:
    st.subheader("Conflicts on a core")
    for cf in conflicts:
        st.warning(f"Curators disagree on core {cf['core'][:12]}: traces " + ", ".join(f"#{t}" for t in cf["traces"]))

st.subheader("Cores to judge (most traces first)")
queue = reuse.core_queue(eng, limit=20)
if not queue:
    st.info("Every claim is decided.")
    st.stop()
labels = {q["core"]: f"{q['traces']} trace(s) · claim #{q['claim_id']}" for q in queue}
core = st.selectbox("Core", list(labels), format_func=lambda k: labels[k], key="kn_core")
view = reuse.core_view(eng, core)
st.markdown(f"**{plain_md(view['action'] or '')}** · " + plain_md("; ".join(
    f"{a}={', '.join(str(e.get('identifier')) for e in ents)}" for a, ents in view["grounding"].items())))
st.dataframe(pd.DataFrame([{"trace": o["trace_id"], "claim": o["text"], "perturbation": o["pert_key"], "cell": o["cell_key"],
                            "own": o["own_verdict"] or "", "reused": o["reuse_verdict"] or (o["reuse_status"] or "")}
                           for o in view["occurrences"]]), hide_index=True, width="stretch")
with st.form("judge_core"):
    c = st.columns(3)
    verdict = c[0].selectbox("Verdict", VERDICTS, key="kn_verdict")
    scope = c[1].selectbox("Scope", [None, *SCOPES], format_func=lambda s: "the primitive's" if s is None else SCOPE_TEXT[s],
                           key="kn_scope")
    reason = c[2].text_input("Reason for another scope", key="kn_reason")
    if st.form_submit_button("Judge every occurrence in scope"):
        try:
            knowledge.judge_core(eng, core, curator(), verdict, scope=scope, scope_reason=reason)
            st.rerun()
        except CurationError as exc:
            st.error(str(exc))
