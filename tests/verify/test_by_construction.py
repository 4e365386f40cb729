"""A claim assembled from a source is not "supported" by that same source: the verdict says "by construction
from X" and only an independent source counts toward the filter (issue 24)."""
from __future__ import annotations

import json

from sqlmodel import select

from vcr_core.verify.base import ClaimVerdict
from vcr_core.verify.evidence import parse_evidence
from vcr_core.verify.runner import assembled_sources, by_construction


def test_support_from_the_assembly_source_is_circular():
    cv = by_construction(ClaimVerdict("supported", 0.8, [], "the record lists ABL1"), "record", ["record"])
    assert cv.verdict == "unverifiable" and cv.score == 0.0
    assert cv.message.startswith("by construction from the record")
    assert "the record lists ABL1" in cv.message
    note = parse_evidence(cv.evidence[-1])
    assert note.kind == "by_construction" and "by construction from the record" in note.summary()


def test_independent_sources_and_contradictions_are_kept():
    ok = ClaimVerdict("supported", 0.9, [], "INDRA: 12 statements")
    assert by_construction(ok, "indra", ["record"]) is ok  # another source: independent support
    contra = ClaimVerdict("contradicted", 0.7, [], "GO says the opposite")
    assert by_construction(contra, "go", ["go"]) is contra  # disagreeing with its own source stays visible


def test_assembled_sources_read_from_the_trace():
    tc = {"knowledge-assembly": {"evidence": {"sources": {"assembled_from": {"n1": ["record"], "n2": ["go", "record"]}}}}}
    assert assembled_sources(tc) == {"n1": ["record"], "n2": ["go", "record"]}
    assert assembled_sources(None) == {} and assembled_sources({"other": {}}) == {}


def test_record_verifier_does_not_support_targets_copied_from_the_record(engine, tmp_path):
    """End to end: the assembler copies the record's targets, the record verifier agrees, and the stored verdict
    is "unverifiable, by construction", so the trace is not passed on that agreement alone."""
    from vcr_core.agents.assembler import Knowledge, set_knowledge
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run
    from vcr_core.jobs import Worker
    from vcr_core.knowledge.testing import TableOrgDb
    from vcr_core.store import Claim, Trace, Verdict, session_scope
    from vcr_core.verify.policy import latest_trace_verdicts
    from vcr_core.verify.runner import verify_traces

    set_knowledge(Knowledge(graph=None, graph_reason="none in this test", orgdb=TableOrgDb({
        "ABL1": [("GO:0008284", "positive regulation of cell population proliferation", "BP", "IDA")]})))
    try:
        path = tmp_path / "r.json"
        path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukemia"},
                                     "perturbation": {"name": "imatinib", "target": ["ABL1"], "moa_type": "ABL1 inhibitor"}}]))
        batch = ingest_file(engine, path, name="b").batch_id
        run_id = create_run(engine, batch_id=batch, tools=[], model_type=None, mode="explain-only", options={})
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
        with session_scope(engine) as s:
            trace = s.exec(select(Trace).where(Trace.run_id == run_id)).one()
            tid = trace.id
        verify_traces(engine, [tid], ["record"])
        with session_scope(engine) as s:
            claims = {c.id: c for c in s.exec(select(Claim).where(Claim.trace_id == tid)).all()}
            rows = s.exec(select(Verdict).where(Verdict.trace_id == tid, Verdict.verifier == "record")).all()
            tv = latest_trace_verdicts(s, [tid])[tid]
        by_action = {claims[r.claim_id].action: r for r in rows if r.claim_id}
        bind = by_action["binds_to"]
        assert bind.verdict == "unverifiable" and bind.message.startswith("by construction from the record")
        assert any(e.get("kind") == "by_construction" for e in bind.evidence)
        assert tv.summary["supported"] == 0 and tv.verdict != "pass"
    finally:
        set_knowledge(None)
