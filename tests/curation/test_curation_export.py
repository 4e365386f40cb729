"""Curation rules, the review queue, exports in three formats and the escaped graph."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.files import export_traces, select_traces
from vcr_core.formalism import parse_text
from vcr_core.store import Claim
from vcr_core.viz import action_graph_html


def _claims(engine, trace_id):
    with Session(engine) as s:
        return {c.node_id: c.id for c in s.exec(select(Claim).where(Claim.trace_id == trace_id)).all()}


def test_judgments_are_validated(engine, seeded):
    c = _claims(engine, seeded["trace_id"])
    with pytest.raises(cur.CurationError, match="curator name"):
        cur.judge_claim(engine, c["n1"], "", "accept")
    with pytest.raises(cur.CurationError, match="verdict"):
        cur.judge_claim(engine, c["n1"], "ana", "override", tag="polarity")
    with pytest.raises(cur.CurationError, match="note"):
        cur.judge_claim(engine, c["n1"], "ana", "override", verdict="contradicted", tag="other")
    with pytest.raises(cur.CurationError, match="trace judgment"):
        cur.judge_trace(engine, seeded["trace_id"], "ana", "maybe")


def test_effective_verdict_and_back_to_review_after_approval(engine, seeded):
    tid = seeded["trace_id"]
    c = _claims(engine, tid)
    states = {s.claim.node_id: s for s in cur.claim_states(engine, tid)}
    assert states["n1"].machine == "supported" and states["n1"].effective == "supported"
    cur.judge_trace(engine, tid, "ana", "approve")
    assert cur.trace_status(engine, tid) == "approve"
    cur.judge_claim(engine, c["n1"], "bo", "override", verdict="contradicted", tag="wrong_relation", note="binds BCR-ABL1, not ABL1")
    assert cur.trace_status(engine, tid) == "needs_review"  # an edit after approval sends it back
    states = {s.claim.node_id: s for s in cur.claim_states(engine, tid)}
    assert states["n1"].effective == "contradicted" and states["n1"].machine == "supported"
    assert states["n1"].overrides_machine and not states["n1"].conflicting  # one curator against the machine: no conflict
    hist = cur.history(engine, tid)
    assert [h.judgment for h in hist] == ["approve", "override", "needs_review"]


def test_queue_orders_uncurated_then_conflicting(engine, seeded):
    from vcr_core.verify.testing import EXPLANATION, add_trace
    t2 = add_trace(engine, seeded["batch_id"], EXPLANATION, run_name="second")
    t3 = add_trace(engine, seeded["batch_id"], EXPLANATION, run_name="third")
    cur.judge_claim(engine, _claims(engine, seeded["trace_id"])["n1"], "ana", "accept")
    cur.judge_claim(engine, _claims(engine, t3)["n1"], "ana", "override", verdict="contradicted", tag="polarity")
    rows, total = cur.review_queue(engine)
    assert total == 3
    assert [(r["trace_id"], r["queue"]) for r in rows] == [(t2, "uncurated"), (t3, "conflicting"), (seeded["trace_id"], "curated")]
    only, n = cur.review_queue(engine, cur.QueueFilters(curator="ana", status="uncurated"))
    assert n == 2 and {r["trace_id"] for r in only} == {seeded["trace_id"], t3}


def test_exports_in_three_formats(engine, seeded):
    tid = seeded["trace_id"]
    assert select_traces(engine) == []  # approved only, by default
    cur.judge_trace(engine, tid, "ana", "approve")
    ids = select_traces(engine)
    assert ids == [tid]
    assert select_traces(engine, status="any", verified_only=True) == []  # fails the filter policy
    doc = json.loads(export_traces(engine, ids, "jsonl").decode().splitlines()[0])
    assert doc["record"]["perturbation"]["name"] == "imatinib" and doc["curation_status"] == "approve"
    assert doc["claims"][0]["verdicts"][0]["verifier"] == "kg" and doc["text"] and doc["explanation"]["nodes"]
    # Evidence in its export form (stored fields plus a plain summary); the archive keeps it as stored.
    edge = doc["claims"][0]["verdicts"][0]["evidence"][0]
    assert edge["kind"] == "kg_edge" and edge["summary"] == "graph edge: imatinib —target→ ABL1"
    assert all("summary" not in e for v in doc["archive"]["verdicts"] for e in v["evidence"])
    orig = json.loads(export_traces(engine, ids, "original"))
    assert set(orig[0]) == {"index", "input_perturbation", "thinking", "answer", "explain", "dag", "raw_response", "question",
                            "input_report_text", "additional_info"}
    assert "binds_to(" in orig[0]["explain"] and "edge(" in orig[0]["dag"]
    reparsed = parse_text(f"<explain>{orig[0]['explain']}</explain><dag>{orig[0]['dag']}</dag>").explanation
    assert len(reparsed.claims) == 3
    root = ET.fromstring(export_traces(engine, ids, "graphml"))
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert len(root.findall(".//g:node", ns)) == 3 and len(root.findall(".//g:edge", ns)) == 2


def test_graph_html_escapes_hostile_names():
    text = ('<explain>\nset_context(cell_type="K562")\nbinds_to(id="<script>alert(1)</script>", actor="<img src=x onerror=alert(1)>", '
            'target="<a href=javascript:alert(1)>x</a>")\ninduces_phenotype(id="n2", source="a", phenotype="death")\n</explain>\n'
            '<dag>\nedge("<script>alert(1)</script>", "n2", relation="correlative")\n</dag>')
    html = action_graph_html(parse_text(text).explanation, {"n2": {"effective": "supported", "lines": ["kg: supported"]}})
    body = html.split("nodes = new vis.DataSet(")[1]
    assert "<img" not in body and "<script>alert" not in body and "<a href" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in body
    assert '"id": "v0"' in body and '"dashes": true' in body  # generated ids; correlative edge dashed
    assert "cdnjs.cloudflare.com" not in html and "vis.Network" in html  # works offline


def test_export_selection_by_run_and_latest_judgment(engine, seeded):
    from vcr_core.store import Trace
    from vcr_core.verify.testing import EXPLANATION, add_trace
    t2 = add_trace(engine, seeded["batch_id"], EXPLANATION, run_name="second")
    cur.judge_trace(engine, seeded["trace_id"], "ana", "approve")
    cur.judge_trace(engine, t2, "ana", "approve")
    cur.judge_trace(engine, t2, "bo", "reject")  # the latest judgment counts
    assert select_traces(engine) == [seeded["trace_id"]]
    with Session(engine) as s:
        run2 = s.get(Trace, t2).run_id
    assert select_traces(engine, status="any", run_id=run2) == [t2]
    assert select_traces(engine, run_id=run2) == []


def test_export_command(engine, seeded, tmp_path, capsys):
    from vcr_core.cli.main import main
    out = tmp_path / "approved.jsonl"
    assert main(["export", "-o", str(out)]) == 1  # nothing approved yet
    assert "only approved traces" in capsys.readouterr().err and not out.exists()
    cur.judge_trace(engine, seeded["trace_id"], "ana", "approve")
    assert main(["export", "-o", str(out)]) == 0
    assert [json.loads(line)["trace_id"] for line in out.read_text().splitlines()] == [seeded["trace_id"]]
    assert main(["export", "--format", "graphml", "-o", str(tmp_path / "g.graphml")]) == 0
    assert ET.parse(tmp_path / "g.graphml").getroot().tag.endswith("graphml")
    assert main(["export", "--run", "999"]) == 2 and "there is no run 999" in capsys.readouterr().err


def test_export_file_streams_to_a_temporary_file(engine, tmp_path):
    """The Export page's download reads a temporary file written batch by batch: the same bytes as the
    in-memory export, in every format, and the file is gone once closed."""
    import io
    import os

    from vcr_core.files import export_file
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": i, "context": {"cell_type": "K562"}, "perturbation": {"name": f"drug{i}"}} for i in range(3)]))
    batch = ingest_file(engine, path).batch_id
    ids = [add_trace(engine, batch, EXPLANATION, record_index=str(i), run_name=f"r{i}") for i in range(3)]
    for fmt in ("jsonl", "original", "graphml"):
        fh = export_file(engine, ids, fmt)
        assert isinstance(fh, io.RawIOBase)  # a kind of file st.download_button reads
        data = fh.read()
        assert data == export_traces(engine, ids, fmt) and data
        assert os.fstat(fh.fileno()).st_nlink == 0  # anonymous: no name left on disk
        fh.close()


def test_disagreement_is_visible_under_every_rule(engine, seeded):
    """one: the latest decides and the other opinion is named; two_agree: a conflict. A single override
    of the machine is labelled as such, not as a conflict."""
    tid = seeded["trace_id"]
    c = _claims(engine, tid)
    cur.judge_claim(engine, c["n1"], "ana", "accept", rule="one")
    cur.judge_claim(engine, c["n1"], "ben", "override", verdict="contradicted", tag="polarity", rule="one")
    st = {s.claim.node_id: s for s in cur.claim_states(engine, tid)}["n1"]
    assert st.effective == "contradicted" and st.state_status == "decided" and st.conflicting
    assert st.disagreement("one") == "decided by the latest (ben: contradicted); ana disagreed (supported)"
    cur.rebuild_state(engine, "two_agree")
    st = {s.claim.node_id: s for s in cur.claim_states(engine, tid)}["n1"]
    assert st.state_status == "conflict" and st.disagreement("two_agree").startswith("conflict: ana supported, ben contradicted")
    assert cur.trace_status(engine, tid) == "conflict"
