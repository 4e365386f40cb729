"""Upload: JSON files of perturbation records, validated whole before anything is stored."""
from pathlib import Path

import pandas as pd
import streamlit as st

from pages.common import curator, engine, plain_md, through_app
from vcr_core.files.ingest import batch_summaries, ingest_bytes, validate_bytes

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_records.json"

through_app()
st.title("Upload perturbation records")
st.write("Upload one or more JSON files in either input shape of the original pipeline (Tahoe-style list, or "
         "`{\"context\": ..., \"perturbation\": ...}` records). Each file is checked as a whole: if any record has a "
         "problem, nothing from that file is stored.")


def _store(name: str, data: bytes, remember: bool = False) -> None:
    """Validate and store one file and say what happened. With ``remember`` (a file in the uploader), the
    outcome is kept for this session: the uploader hands every file again on each rerun, so adding a
    second file must show the first one's outcome again, not store it twice ("already stored")."""
    import hashlib

    key = (name, hashlib.sha256(data).hexdigest())
    done = st.session_state.setdefault("upload_outcomes", {})
    if remember and key in done:
        st.subheader(plain_md(name))
        level, message = done[key]
        getattr(st, level)(message)
        return
    report = validate_bytes(data, name)
    st.subheader(plain_md(name))  # an upload named it: shown as typed
    if report.problems:
        st.error(f"{plain_md(name)} was not stored: {len(report.problems)} problem(s). Fix them and upload again.")
        st.dataframe(pd.DataFrame([{"record": p.index if p.index is not None else (p.position if p.position is not None else "file"),
                                    "field": p.path, "problem": p.message} for p in report.problems]),
                     hide_index=True, width="stretch")
        return
    st.dataframe(pd.DataFrame([{"index": r.index, "perturbation": " + ".join(p.label for p in r.perturbations),
                                "targets": ", ".join(t for p in r.perturbations for t in p.targets),
                                "context": r.context.label, "disease": r.context.disease or ""} for r in report.records]),
                 hide_index=True, width="stretch")
    try:
        result = ingest_bytes(engine(), data, name=Path(name).stem, filename=name, created_by=curator() or None)
    except Exception as exc:  # a full disk: one line, nothing half-stored (ingest is one transaction)
        from vcr_core.kernel.failures import user_message

        line = user_message(exc)
        if line is None:
            raise
        st.error(f"{name}: {line}")
        return
    if result.duplicate:
        outcome = ("info", f"This file is already stored as batch #{result.batch_id}; nothing was added.")
    else:
        outcome = ("success", f"Stored {result.added} record(s) as batch #{result.batch_id}. Next: Generate.")
    if remember:
        done[key] = outcome
    getattr(st, outcome[0])(outcome[1])


files = st.file_uploader("JSON files", type=["json"], accept_multiple_files=True)
col1, col2 = st.columns([1, 3])
if col1.button("Load demo records", help="Five real drugs and contexts written for this app (nintedanib, imatinib, ...)"):
    _store(DEMO.name, DEMO.read_bytes())
for f in files or []:
    _store(f.name, f.getvalue(), remember=True)
if not files:
    col2.caption("No file chosen yet. Try the demo records to see the whole workflow.")

st.divider()
st.subheader("Stored batches")
batches = batch_summaries(engine())
if batches:
    st.dataframe(pd.DataFrame(batches).rename(columns={"preprocess_failed": "preprocessing failed", "created_at": "created (UTC)"}),
                 hide_index=True, width="stretch")
else:
    st.caption("None yet. Every file stored here becomes a batch that Generate, Review and Export can select.")
