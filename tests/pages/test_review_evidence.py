"""The Review page draws every evidence kind through one function: text stays text, links come from ids."""
from __future__ import annotations

import json

HOSTILE_LINK = "[click](https://evil.example/x)"


def test_review_shows_typed_evidence_as_plain_text(app, engine, tmp_path):
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify import verify_traces
    from vcr_core.verify.base import ClaimVerdict
    from vcr_core.verify.evidence import KgEdge, PmidSentence
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": "ABL1"}}]))
    trace_id = add_trace(engine, ingest_file(engine, path).batch_id, EXPLANATION)

    class Lit:
        name, version = "kg", "1"  # a registered name, so the page and policy know it

        def applies(self, node):
            return node.action == "binds_to"

        def verify(self, ctx):
            return ClaimVerdict("supported", 0.9, [
                PmidSentence(pmid="12345", sentence=f"Imatinib binds ABL1 {HOSTILE_LINK}"),
                PmidSentence(pmid="1](https://evil.example", sentence="a forged id"),
                KgEdge(source="imatinib", target="ABL1", relation="target", graph="PrimeKG"),
                {"kind": "from_an_old_verifier", "note": "**not bold**"},
            ], "evidence")

    verify_traces(engine, [trace_id], ["kg"], instances={"kg": Lit()})
    app.switch_page("pages/review.py").run()
    assert not app.exception, app.exception
    texts = [t.value for t in app.text]
    assert f"PMID 12345: Imatinib binds ABL1 {HOSTILE_LINK}" in texts  # drawn with st.text: the link stays text
    assert "graph edge: imatinib —target→ ABL1 (PrimeKG)" in texts
    assert "from_an_old_verifier: note=**not bold**" in texts
    markdown = " ".join(m.value for m in app.markdown)
    assert "(https://pubmed.ncbi.nlm.nih.gov/12345/)" in markdown
    assert "evil.example" not in markdown
