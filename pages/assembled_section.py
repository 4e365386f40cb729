"""Page sections for explanations assembled from knowledge: Compare (beside a model's explanation, claim by
claim) and Review (a trace's full failure reason, each claim's sources). Kept apart so the pages stay thin."""
import pandas as pd
import streamlit as st

from pages.common import plain_md
from vcr_core.kernel.statuses import TraceStatus


def compare_with_model(engine) -> None:
    """Compare: an assembled trace beside a model's trace of the same record, claim by claim."""
    from vcr_core.agents.side_by_side import claim_by_claim, traces_by_kind
    from vcr_core.files.ingest import record_labels
    from vcr_core.kernel.settings import get_settings

    st.subheader("Assembled from knowledge beside a model")
    kinds = traces_by_kind(engine)
    if not kinds:
        st.caption("No explanation assembled from knowledge yet (the default without an API key).")
        return
    labels = record_labels(engine, record_ids=list(kinds))
    rid = st.selectbox("Record with an assembled explanation", list(kinds), format_func=labels.get, key="asm_record")
    a_id, m_ids = kinds[rid]["assembled"][-1], kinds[rid]["model"]
    if not m_ids:
        if any(get_settings().provider_keys().values()):
            if st.button("Explain this record with the model too", key="asm_run_llm"):
                from vcr_core.generation import create_run
                run_id = create_run(engine, batch_id=None, record_ids=[rid], tools=[], model_type=None,
                                    mode="report-explain", options={"concurrency": 1}, name="beside assembled")
                st.success(f"Run #{run_id} queued; come back when it is done.")
        else:
            st.caption("No model has explained this record. Set a provider key (see Status) to compare the two.")
        return
    m_id = st.selectbox("Model trace", m_ids[::-1], format_func=lambda t: f"trace #{t}", key="asm_model_trace")
    rows = claim_by_claim(engine, a_id, m_id)
    counts = pd.Series([r["match"] for r in rows]).value_counts().to_dict()
    st.caption(f"assembled trace #{a_id} vs model trace #{m_id}: " + " · ".join(f"{v} {k}" for k, v in counts.items()))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def trace_notes(trace) -> None:
    """Review: the trace's errors in full (a failed call's whole reason), and what an assembled trace is."""
    from vcr_core.agents.side_by_side import is_assembled

    if trace.errors and trace.status == TraceStatus.OK:  # a failed or invalid trace's reason is shown once, by Review
        st.error("\n\n".join(plain_md(e) for e in trace.errors))
    if is_assembled(trace):
        from vcr_core.agents.assembler import DISCLAIMER
        st.caption(DISCLAIMER + " Each claim lists its sources below it.")


def claim_sources(trace, node_id: str) -> None:
    """Review: the sources of one claim of an assembled trace."""
    from vcr_core.agents.side_by_side import claim_sources as lines

    for line in lines(trace, node_id):
        st.caption(f"source · {plain_md(line)}")
