"""Review shows each entity argument's stored grounding and re-grounds it through the claim card's form."""
from __future__ import annotations

import json

from sqlmodel import Session, select


def test_review_shows_grounding_and_regrounds_through_the_form(app, engine, tmp_path, monkeypatch):
    from vcr_core.curation.reuse import identify_and_reuse
    from vcr_core.files.ingest import ingest_file
    from vcr_core.store import Claim, Curation, Verdict
    from vcr_core.verify import runner, verify_traces
    from vcr_core.verify.testing import EXPLANATION, GeneEcho, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": "ABL1"}}]))
    trace_id = add_trace(engine, ingest_file(engine, path).batch_id, EXPLANATION)
    identify_and_reuse(engine)
    verify_traces(engine, [trace_id], ["kg"], instances={"kg": GeneEcho()})
    monkeypatch.setattr(runner, "build_verifiers", lambda engine, names: {"kg": GeneEcho()})
    with Session(engine) as s:
        cid = s.exec(select(Claim.id).where(Claim.trace_id == trace_id, Claim.node_id == "n1")).one()

    app.switch_page("pages/review.py").run()
    assert not app.exception, app.exception
    texts = [t.value for t in app.text]
    assert "target = ABL1 → HGNC:76 (ABL1; gene resolver: symbol)" in texts
    assert any(t.startswith("actor = imatinib → DrugBank:DB00619") for t in texts)

    # rows are sorted by argument: actor (0), target (1). A made-up identifier: one line, nothing stored.
    form = f"rg_{cid}_1"
    app.text_input(key=f"{form}_id").input("HGNC:999999")
    app.button(key=f"FormSubmitter:{form}-Re-ground").click().run()
    assert not app.exception, app.exception
    # messages are Markdown-escaped (they quote what the curator typed): compared without the escapes
    assert any("HGNC:999999 is not an approved gene" in e.value.replace("\\", "") for e in app.error)
    with Session(engine) as s:
        assert s.exec(select(Curation)).all() == []

    app.text_input(key=f"{form}_id").input("HGNC:6307")
    app.text_input(key=f"{form}_why").input("the paper means VEGFR2")
    app.button(key=f"FormSubmitter:{form}-Re-ground").click().run()
    assert not app.exception, app.exception
    assert any("re-grounded to HGNC:6307" in m.value.replace("\\", "") for m in app.success)
    texts = [t.value for t in app.text]
    assert "target = ABL1 → HGNC:6307 (KDR; curator ana)" in texts
    assert any("kg: contradicted (0.90) · target read as KDR" in t for t in texts)  # the recomputed verdict is shown
    assert any("grounding read from the claim: " in t and "ABL1 → HGNC:6307 (curator ana's grounding)" in t for t in texts)
    with Session(engine) as s:
        rows = s.exec(select(Curation)).all()
        kg = s.exec(select(Verdict).where(Verdict.claim_id == cid, Verdict.verifier == "kg").order_by(Verdict.id)).all()
    assert [(r.target, r.judgment, r.curator, r.note) for r in rows] == [("grounding", "reground", "ana", "the paper means VEGFR2")]
    assert [v.verdict for v in kg] == ["supported", "contradicted"]
