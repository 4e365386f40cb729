"""Every page through AppTest: upload (with and without errors), generate, judge, override, approve, export."""
from __future__ import annotations

import json

from sqlmodel import Session, select

from vcr_core.store import Batch, Curation, Run


def test_upload_demo_and_bad_file(app, engine, tmp_path):
    app.switch_page("pages/upload.py").run()
    demo = next(b for b in app.button if b.label == "Load demo records")
    demo.click().run()
    assert not app.exception
    assert any("Stored 5 record(s)" in s.value for s in app.success)
    with Session(engine) as s:
        assert s.exec(select(Batch)).one().n_records == 5
    stored = app.dataframe[-1].value  # the "Stored batches" table lists the new batch
    assert list(stored["records"]) == [5] and list(stored["name"]) == ["demo_records"]
    next(b for b in app.button if b.label == "Load demo records").click().run()
    assert any("already stored" in i.value for i in app.info)


def test_upload_page_lists_problems_and_stores_nothing(engine, tmp_path, monkeypatch):
    """The upload function used by the page: a bad record shows its problems; nothing is stored."""
    from streamlit.testing.v1 import AppTest

    bad = json.dumps([{"index": 1, "perturbation": {"name": "imatinib"}}, {"index": 1, "perturbation": "oops"}]).encode()

    at = AppTest.from_function(_upload_script, args=(bad,), default_timeout=30)
    at.run()
    assert not at.exception
    assert any("was not stored" in e.value for e in at.error)
    table = at.dataframe[0].value
    assert set(table["problem"]) >= {"a perturbation must be an object, found str", "duplicate index '1' (also record #0)"}
    with Session(engine) as s:
        assert s.exec(select(Batch)).all() == []


def _upload_script(data: bytes):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path.cwd()))
    from pages import upload
    upload._store("bad.json", data)


def test_generate_page_starts_a_run(app, engine):
    app.switch_page("pages/upload.py").run()
    next(b for b in app.button if b.label == "Load demo records").click().run()
    app.switch_page("pages/generate.py").run()
    assert not app.exception
    # No key: the default is assembly from knowledge, and the page says plainly what that is.
    assert app.selectbox(key="provider").value == "knowledge"
    assert any("not reasoned by a model" in i.value for i in app.info)
    assert all(c.value for c in app.checkbox if c.key and c.key.startswith("tool_") and not c.disabled)  # available tools ticked
    app.button(key="FormSubmitter:new_run-Start run").click().run()
    assert not app.exception, app.exception
    assert any("queued" in s.value for s in app.success)
    with Session(engine) as s:
        run = s.exec(select(Run)).one()
        assert run.n_total == 5 and run.created_by == "ana" and run.model
        assert run.options["preprocess"] == "ner-pubchem"  # entities are found first, by default
    # Per-record progress of the newest run: every record pending until the worker writes its trace.
    per_record = app.dataframe[-1].value
    assert list(per_record["status"]) == ["pending"] * 5 and per_record["record"].iloc[0] == "1: nintedanib in HUVEC"


def test_sidebar_says_what_is_in_use(engine, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.run()  # AppTest keeps the sidebar of the first run only (with st.navigation), so look there
    text = " ".join(c.value for c in at.sidebar.caption)
    assert "Database: sqlite:///" in text and "Graph: starter graph" in text and "assembled from knowledge" in text


def test_review_accept_override_approve_and_history(app, engine, seeded):
    app.switch_page("pages/review.py").run()
    assert not app.exception, app.exception
    assert app.subheader[0].value.startswith("imatinib")
    # the graph is an iframe with the escaped hostile name
    html = app.get("iframe")[0].proto.srcdoc if app.get("iframe") else ""
    assert "\\u003cimg src=x" in html and "<img src=x" not in html
    app.button(key=f"accept_{_claim_id(engine, 'n1')}").click().run()
    assert not app.exception, app.exception
    # Form widgets commit on submit: set them, then submit in one run.
    app.selectbox(key=f"ov_v_{_claim_id(engine, 'n2')}").select("contradicted")
    app.selectbox(key=f"ov_t_{_claim_id(engine, 'n2')}").select("wrong_direction")
    app.text_input(key=f"ov_n_{_claim_id(engine, 'n2')}").input("MYC rises in K562")
    app.button(key=f"FormSubmitter:override_{_claim_id(engine, 'n2')}-Save override").click().run()
    assert not app.exception, app.exception
    app.button(key=f"approve_{seeded['trace_id']}").click().run()
    # n2 is now contradicted: approving asks first
    assert any("Approve anyway?" in w.value and "n2" in w.value for w in app.warning)
    app.button(key=f"approve_confirm_{seeded['trace_id']}").click().run()
    with Session(engine) as s:
        rows = s.exec(select(Curation).order_by(Curation.id)).all()
    assert [(r.target, r.judgment, r.verdict, r.curator) for r in rows] == [
        ("claim", "accept", "supported", "ana"), ("claim", "override", "contradicted", "ana"), ("trace", "approve", None, "ana")]
    assert rows[1].tag == "wrong_direction" and rows[1].note == "MYC rises in K562" and rows[1].claim_snapshot["node_id"] == "n2"
    # The hostile entity is shown as text in the claims tab.
    assert any("<img src=x onerror=alert(1)>" in c.value for c in app.code)


def test_judging_needs_a_curator_name(engine, seeded, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/review.py").run()
    at.button(key=f"approve_{seeded['trace_id']}").click().run()
    assert any("curator name" in e.value for e in at.error)


def test_export_status_overview_compare_pages(app, engine, seeded):
    from vcr_core.curation import judge_trace
    judge_trace(engine, seeded["trace_id"], "ana", "approve")
    app.switch_page("pages/export.py").run()
    assert not app.exception, app.exception
    assert "1 trace(s) selected." in [m.value for m in app.markdown]
    assert len(app.get("download_button")) == 5  # JSONL, original JSON, GraphML, SVG, Hugging Face dataset (zip)
    for page in ("pages/status.py", "pages/overview.py", "pages/compare.py"):
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
    app.switch_page("pages/overview.py").run()
    charts = app.get("vega_lite_chart")
    assert len(charts) == 4  # traces by status, by filter verdict, verdicts by primitive, progress per curator
    app.switch_page("pages/status.py").run()
    text = " ".join(m.value for m in app.markdown)
    assert "Database" in text and "Model providers" in text


def _claim_id(engine, node_id):
    from vcr_core.store import Claim
    with Session(engine) as s:
        return s.exec(select(Claim).where(Claim.node_id == node_id)).first().id


def test_next_trace_shortcut_moves_through_the_queue(app, engine, seeded):
    from vcr_core.verify.testing import EXPLANATION, add_trace
    second = add_trace(engine, seeded["batch_id"], EXPLANATION, run_name="second")
    app.switch_page("pages/review.py").run()
    first = app.selectbox(key="trace_pick").value
    app.button(key="next_trace").click().run()
    assert not app.exception, app.exception
    assert {first, app.selectbox(key="trace_pick").value} == {seeded["trace_id"], second}
    assert app.caption[1].value.startswith(f"trace #{app.selectbox(key='trace_pick').value} ")


def test_with_auth_configured_the_sidebar_asks_to_log_in(engine, seeded, monkeypatch):
    """With [auth] in the secrets, st.login replaces the name box; a signed-out visitor cannot judge."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "test-only",
                          "client_id": "vcr", "client_secret": "test-only",
                          "server_metadata_url": "https://issuer.example/.well-known/openid-configuration"}
    at.run()
    assert [b.label for b in at.sidebar.button] == ["Log in"]
    assert any("Log in before judging" in c.value for c in at.sidebar.caption)
    assert not at.sidebar.text_input  # no free-text name when sign-in is configured
    at.switch_page("pages/review.py").run()
    at.button(key=f"approve_{seeded['trace_id']}").click().run()
    assert any("curator name" in e.value or "log in" in e.value.lower() for e in at.error)
    with Session(engine) as s:
        assert not s.exec(select(Curation)).all()


def test_home_demo_in_one_click_shows_a_graph(app, engine):
    """Home: one click stores the demo records and queues a run on the default; once the worker has
    explained a record, the first graph is on the page."""
    from vcr_core.jobs import Worker

    assert any(b.label == "Load demo records and explain them" for b in app.button)
    assert any("assembled from knowledge bases" in i.value for i in app.info)
    next(b for b in app.button if b.label == "Load demo records and explain them").click().run()
    assert not app.exception, app.exception
    with Session(engine) as s:
        run = s.exec(select(Run)).one()
    assert run.provider == "knowledge" and run.n_total == 5 and run.mode == "explain-only"
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    app.run()
    assert not app.exception, app.exception
    assert any(h.value == "First explanation" for h in app.subheader)
    assert any("Assembled from knowledge bases" in t.value for t in app.text)  # the answer (plain text) says what it is
