"""Review that keeps up (AppTest), exports that carry judgments in constant queries per batch, Compare
across files, and agreement figures."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from sqlalchemy import event, update
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.store import Claim, Curation, Trace

ROOT = Path(__file__).resolve().parents[2]

LINK = "[link](https://example.org)"


def _claim_id(engine, trace_id, node_id):
    with Session(engine) as s:
        return s.exec(select(Claim).where(Claim.trace_id == trace_id, Claim.node_id == node_id)).first().id


def test_changing_filters_on_a_later_page_does_not_crash(app, engine, seeded):
    from vcr_core.verify.testing import EXPLANATION, add_trace
    for i in range(26):
        add_trace(engine, seeded["batch_id"], EXPLANATION, run_name=f"more{i}")
    app.switch_page("pages/review.py").run()
    app.button[[b.label for b in app.button].index("Next ▶")].click().run()
    assert not app.exception, app.exception
    assert "page 2 of 2" in app.caption[0].value
    next(s for s in app.selectbox if s.label == "Curation status").select("approve")  # nothing matches
    app.button(key="FormSubmitter:filters-Apply filters").click().run()
    assert not app.exception, app.exception
    assert any("Nothing to review with these filters" in i.value for i in app.info)
    cur.judge_trace(engine, seeded["trace_id"], "bo", "approve")
    app.run()
    assert not app.exception, app.exception
    assert app.caption[0].value.startswith("1 trace(s)")


def test_identity_from_the_page_address(engine, seeded, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.query_params["curator"] = "ana"
    at.run()
    assert at.session_state["curator"] == "ana"
    at.switch_page("pages/review.py").run()
    at.button(key=f"accept_{_claim_id(engine, seeded['trace_id'], 'n1')}").click().run()
    assert not at.exception, at.exception
    with Session(engine) as s:
        assert [c.curator for c in s.exec(select(Curation)).all()] == ["ana"]
    assert any("accepted by ana" in c.value for c in at.caption)  # the card says who accepted it


def test_approving_a_trace_with_contradicted_claims_asks_first(app, engine, seeded):
    tid = seeded["trace_id"]
    cur.judge_claim(engine, _claim_id(engine, tid, "n1"), "bo", "override", verdict="contradicted", tag="polarity")
    app.switch_page("pages/review.py").run()
    app.button(key=f"approve_{tid}").click().run()
    assert any("Approve anyway?" in w.value and "n1" in w.value for w in app.warning)
    assert cur.trace_status(engine, tid) == "needs_review" or cur.trace_status(engine, tid) == "uncurated"
    app.button(key=f"approve_confirm_{tid}").click().run()
    assert not app.exception, app.exception
    assert cur.trace_status(engine, tid) == "approve"


def test_stale_claim_judgment_is_refused_on_the_page(app, engine, seeded):
    tid = seeded["trace_id"]
    app.switch_page("pages/review.py").run()
    cur.judge_claim(engine, _claim_id(engine, tid, "n1"), "bo", "accept")  # another curator, meanwhile
    app.button(key=f"accept_{_claim_id(engine, tid, 'n1')}").click().run()
    assert not app.exception, app.exception
    assert any("bo judged this meanwhile" in w.value for w in app.warning)
    with Session(engine) as s:
        assert [c.curator for c in s.exec(select(Curation)).all()] == ["bo"]


def test_model_text_is_plain_and_a_failed_trace_says_why(app, engine, seeded):
    tid = seeded["trace_id"]
    with engine.begin() as conn:
        conn.execute(update(Trace).where(Trace.id == tid).values(report=f"see {LINK}", status="failed",
                                                                  errors=["model timed out after 120 s"]))
    app.switch_page("pages/review.py").run()
    assert not app.exception, app.exception
    assert any(LINK in t.value for t in app.text)  # the report, as text
    assert not any("](https://example.org" in m.value for m in app.markdown)
    assert any("failed" in e.value for e in app.error)
    assert any("model timed out after 120 s" in t.value for t in app.text)



def test_generate_progress_shows_model_and_error_text_plain(app, engine, seeded):
    """A model name a user typed and an error quoting a model are plain text in the Runs panel."""
    from pages.common import plain_md
    from vcr_core.store import Run

    with Session(engine) as s:
        run = s.get(Run, s.exec(select(Trace.run_id).where(Trace.id == seeded["trace_id"])).one())
        run.model, run.status, run.error = LINK, "failed", f"the model answered {LINK}"
        s.add(run)
        s.commit()
    app.switch_page("pages/generate.py").run()
    assert not app.exception, app.exception
    rendered = [m.value for m in (*app.markdown, *app.caption, *app.error)]
    assert not any("](https://example.org" in v for v in rendered)  # never a live link
    assert any(plain_md(LINK) in v for v in rendered)  # shown as typed

def test_my_queue_leases_the_trace(app, engine, seeded):
    app.switch_page("pages/review.py").run()
    app.segmented_control(key="queue_mode").set_value("mine").run()
    assert not app.exception, app.exception
    assert cur.lease_holder(engine, seeded["trace_id"]) == "ana"


def test_overview_shows_agreement(app, engine, seeded):
    tid = seeded["trace_id"]
    for who, verdict in (("ana", None), ("bo", "contradicted")):
        for node in ("n1", "n2"):
            if verdict:
                cur.judge_claim(engine, _claim_id(engine, tid, node), who, "override", verdict=verdict, tag="polarity")
            else:
                cur.judge_claim(engine, _claim_id(engine, tid, node), who, "accept")
    agreement = cur.inter_curator_agreement(engine)
    assert agreement["pairs"][0]["curator_a"] == "ana" and agreement["pairs"][0]["claims"] == 2
    assert {r["primitive"] for r in agreement["by_primitive"]} >= {"binds_to"}
    vs = {r["verifier"]: r for r in cur.curator_vs_machine(engine)}
    assert vs["kg"]["overruled"] == 1 and vs["kg"]["agree"] == 1
    app.switch_page("pages/overview.py").run()
    assert not app.exception, app.exception
    assert any("Cohen's kappa" in m.value for m in app.markdown)


def test_cohen_kappa():
    assert cur.cohen_kappa([("a", "a"), ("b", "b")]) == 1.0
    assert cur.cohen_kappa([("a", "b"), ("b", "a")]) == -1.0
    assert cur.cohen_kappa([]) is None
    assert abs(cur.cohen_kappa([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]) - 0.5) < 1e-9


def test_export_streams_in_constant_queries_per_batch_and_graphml_carries_judgments(engine, seeded):
    from vcr_core.files import export_traces, write_export
    from vcr_core.verify.testing import EXPLANATION, add_trace
    ids = [seeded["trace_id"]] + [add_trace(engine, seeded["batch_id"], EXPLANATION, run_name=f"x{i}") for i in range(5)]
    tid = seeded["trace_id"]
    cur.judge_claim(engine, _claim_id(engine, tid, "n1"), "ana", "override", verdict="contradicted", tag="polarity")
    cur.judge_trace(engine, tid, "bo", "approve")

    def count_queries(trace_ids):
        n = [0]

        def before(*_a, **_k):
            n[0] += 1
        event.listen(engine, "before_cursor_execute", before)
        try:
            import io
            write_export(engine, trace_ids, "jsonl", io.BytesIO(), batch_size=100)
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return n[0]

    assert count_queries(ids[:2]) == count_queries(ids) == 10  # one batch: ten queries, whatever its size
    doc = json.loads(export_traces(engine, [tid], "jsonl").decode().splitlines()[0])
    n1 = next(c for c in doc["claims"] if c["node_id"] == "n1")
    assert n1["effective_verdict"] == "contradicted" and n1["judgments"]["ana"]["tag"] == "polarity"
    assert doc["trace_judgments"] == {"bo": "approve"}
    root = ET.fromstring(export_traces(engine, [tid], "graphml"))
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    keys = {k.get("attr.name"): k.get("id") for k in root.findall("g:key", ns)}
    assert {"effective_verdict", "curator_judgments", "tags", "trace_status", "machine_verdict"} <= set(keys)
    node = next(n for n in root.iter("{http://graphml.graphdrawing.org/xmlns}node") if n.get("id").endswith(":n1"))
    data = {d.get("key"): d.text for d in node.findall("g:data", ns)}
    assert data[keys["effective_verdict"]] == "contradicted" and data[keys["tags"]] == "polarity"
    assert "ana: override contradicted" in data[keys["curator_judgments"]]
    assert data[keys["trace_status"]] == "needs_review" or data[keys["trace_status"]] == "approve"
    graph = root.find("g:graph", ns)
    gdata = {d.get("key"): d.text for d in graph.findall("g:data", ns)}
    assert "ana" in gdata[keys["curators"]]


def test_same_record_from_two_files_is_one_record_compared_side_by_side(engine, tmp_path, monkeypatch):
    """The original pipeline's Claude and Gemini outputs for the same perturbation in the same context
    (written a little differently) are one record with two traces; each trace keeps its file."""
    from streamlit.testing.v1 import AppTest

    from vcr_core.curation.compare import comparison_groups
    from vcr_core.curation import QueueFilters, review_queue, run_record_rows
    from vcr_core.files import select_traces
    from vcr_core.files.importers import import_traces
    from vcr_core.store import Record

    rec = {"context": {"cell_type": "K562"}, "perturbation": {"name": "Imatinib"}}
    target = {"claude": "ABL1", "gemini": "KIT"}
    out = {}
    for model, rec_variant in (("claude", rec), ("gemini", {"context": {"cell_type": "k562 "}, "perturbation": {"name": "imatinib"}})):
        rows = [{"index": 3 if model == "claude" else 7, "input_perturbation": rec_variant, "answer": model,
                 "explain": f'set_context(cell_type="K562")\nbinds_to(id="n1", actor="imatinib", target="{target[model]}")', "dag": ""},
                {"index": 4, "input_perturbation": {"context": {"cell_type": "HeLa"}, "perturbation": {"name": model}},
                 "explain": f'set_context(cell_type="HeLa")\nbinds_to(id="n1", actor="{model}", target="EGFR")', "dag": ""}]
        (tmp_path / f"{model}.json").write_text(json.dumps(rows))
        out[model] = import_traces(engine, tmp_path / f"{model}.json", name=model)
    assert out["claude"]["merged"] == 0 and out["gemini"]["merged"] == 1
    with Session(engine) as s:
        imatinib = s.exec(select(Record).where(Record.perturbation_name.ilike("imatinib"))).all()
        traces = s.exec(select(Trace).where(Trace.record_id == imatinib[0].id).order_by(Trace.id)).all()
    assert len(imatinib) == 1 and len(traces) == 2
    assert [t.run_id for t in traces] == [out["claude"]["run_id"], out["gemini"]["run_id"]]  # each file's run
    assert traces[1].meta["source_index"] == "7"
    groups = comparison_groups(engine)
    assert len(groups) == 1 and groups[0]["trace_ids"] == [t.id for t in traces] and groups[0]["record_ids"] == [imatinib[0].id]
    # the gemini file's batch still finds its merged trace (export, queue, its run's records)
    gemini_batch = out["gemini"]["batch_id"]
    assert traces[1].id in select_traces(engine, status="any", batch_id=gemini_batch)
    assert traces[1].id in [r["trace_id"] for r in review_queue(engine, QueueFilters(batch_id=gemini_batch))[0]]
    assert [r["trace"] for r in run_record_rows(engine, out["gemini"]["run_id"])].count(traces[1].id) == 1
    # the Compare page puts the two traces side by side (their claims differ: ABL1 against KIT)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    left, right = at.selectbox[-2], at.selectbox[-1]
    assert {left.value, right.value} == {t.id for t in traces}
    assert any("0 shared · 1 only left · 1 only right" in c.value for c in at.caption)


def test_code_md_shows_a_model_written_name_literally():
    """Inside a code span Markdown escapes would show as backslashes (`binds\\_to`); code_md keeps the
    name as written and cannot be closed early by a backtick or a line break."""
    from pages.common import code_md

    assert code_md("binds_to") == "`binds_to`"
    assert code_md("x` [link](https://example.org) `\ny") == "`x' [link](https://example.org) ' y`"
    assert code_md(None) == "" and code_md("  ") == ""
