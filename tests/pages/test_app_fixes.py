"""The app fixes of issue 24, each on its page (AppTest): Generate's timing, Review's failure reason once,
the Override form with no preselected verdict, collapsible claim cards, Status that tells the truth about
the network and names what adds drug-target edges, Overview that separates "could not run" from
"overruled", and context text read from every record shape."""
from __future__ import annotations

import pytest

from datetime import timedelta

from sqlmodel import Session, select

from vcr_core.store import Run


@pytest.fixture
def app(engine, monkeypatch):
    """tests/conftest.py's app with a longer limit per script run: on a loaded 2-core machine one page run
    can take more than a minute (time is not asserted)."""
    from tests.conftest import make_app

    return make_app(monkeypatch, timeout=300)


def test_generate_says_how_long_a_short_run_took(app, engine, batch_id):
    from vcr_core.generation import create_run
    from vcr_core.generation.runs import format_duration

    run_id = create_run(engine, batch_id=batch_id, record_ids=None, tools=[], model_type="knowledge",
                        mode="explain-only", options={}, enqueue_job=False)
    with Session(engine) as s:
        run = s.get(Run, run_id)
        from vcr_core.store import utcnow
        run.started_at = utcnow()
        run.finished_at = run.started_at + timedelta(milliseconds=400)
        run.status, run.n_done, run.n_total = "done", 2, 2
        s.add(run)
        s.commit()
    app.switch_page("pages/generate.py").run()
    assert not app.exception, app.exception
    captions = [c.value for c in app.caption]
    assert "took 0.4 s (0.2 s per record, measured)" in captions, captions
    assert not any(c.startswith("took 0 s") for c in captions)
    assert [format_duration(x) for x in (0.04, 9.96, 42.4, 185)] == ["0.0 s", "10.0 s", "42 s", "3 min 05 s"]


def _claim_id(engine, node_id: str) -> int:
    from vcr_core.store import Claim

    with Session(engine) as s:
        return s.exec(select(Claim.id).where(Claim.node_id == node_id)).first()


def test_review_says_an_invalid_traces_reason_once(app, engine, seeded):
    from sqlalchemy import update

    from vcr_core.store import Trace

    reason = "the explanation has no edge from the perturbation"
    with engine.begin() as conn:
        conn.execute(update(Trace).where(Trace.id == seeded["trace_id"]).values(status="invalid", errors=[reason]))
    app.switch_page("pages/review.py").run()
    assert not app.exception, app.exception
    shown = [e.value for e in app.error] + [t.value for t in app.text] + [m.value for m in app.markdown]
    assert sum(reason in v or reason.replace(" ", "\\ ") in v for v in shown) == 1, shown


def test_override_has_no_preselected_verdict_and_cards_fold_their_details(app, engine, seeded):
    from vcr_core.store import Curation

    app.switch_page("pages/review.py").run()
    cid = _claim_id(engine, "n2")
    assert app.selectbox(key=f"ov_v_{cid}").value is None and app.selectbox(key=f"ov_t_{cid}").value is None
    app.button(key=f"FormSubmitter:override_{cid}-Save override").click().run()  # saved without choosing
    assert not app.exception, app.exception
    assert any("needs a verdict" in e.value for e in app.error)
    with Session(engine) as s:
        assert s.exec(select(Curation)).all() == []  # nothing was decided for the curator
    # each claim card: its summary and buttons in view, the statement and evidence in a closed section
    details = [e for e in app.expander if e.label.startswith("Claim, sources and evidence")]
    assert len(details) == 3 and not any(e.proto.expanded for e in details)
    assert any("<img src=x onerror=alert(1)>" in c.value for d in details for c in d.code)
    summaries = [m.value for m in app.markdown if "effective:" in m.value]
    assert any("binds ABL1" in m for m in summaries), summaries  # the claim as biology (the actor escaped)


def test_status_tells_the_truth_about_the_network_and_names_drug_target_sources(app, engine, monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.system.status import NETWORK_HOSTS, network_part

    app.switch_page("pages/status.py").run()  # OFFLINE=true in tests
    assert not app.exception, app.exception
    heads = [m.value for m in app.markdown if m.value.startswith("**")]
    assert "**⚠️ Network**" in heads and "**✅ Network**" not in heads
    assert "**⚠️ Drug-target edges**" in heads
    todo = " ".join(c.value for c in app.caption)
    assert "STARK_PRIMEKG_DIR" in todo and "PRIMEKG_CSV" in todo and "DRUGBANK_XML_PATH" in todo
    assert "drug-protein target edges" in todo
    # online, the check says what answers: nothing reachable is not a green tick
    monkeypatch.setenv("OFFLINE", "false")
    get_settings.cache_clear()
    down = network_part(probe=lambda hosts: [])
    assert not down.ok and "no service answers" in down.detail
    up = network_part(probe=lambda hosts: list(hosts[:1]))
    assert up.ok and NETWORK_HOSTS[0] in up.detail and "not answering" in up.detail
    monkeypatch.setenv("PRIMEKG_CSV", "/data/kg.csv")
    get_settings.cache_clear()
    from vcr_core.system.status import drug_target_part
    part = drug_target_part()
    assert part.ok and "PRIMEKG_CSV (/data/kg.csv)" in part.detail


def test_overview_separates_could_not_run_from_overruled(app, engine, seeded):
    from vcr_core import curation as cur
    from vcr_core.verify import verify_traces
    from vcr_core.verify.base import unverifiable

    class Web:  # a verifier whose source could not be reached
        name, version = "web", "1"

        def applies(self, node):
            return node.action == "binds_to"

        def verify(self, ctx):
            return unverifiable("the service could not be asked (offline)")

    verify_traces(engine, [seeded["trace_id"]], ["web"], instances={"web": Web()})
    n1 = _claim_id(engine, "n1")
    states = {s.claim.id: s for s in cur.claim_states(engine, seeded["trace_id"])}
    cur.judge_claim(engine, n1, "ana", "override", verdict="contradicted", tag=cur.REASON_TAGS[0],
                    seen_version=states[n1].version)
    rows = {r["verifier"]: r for r in cur.curator_vs_machine(engine)}
    assert rows["kg"]["overruled"] == 1 and rows["kg"]["could_not_run"] == 0
    assert rows["web"]["overruled"] == 0 and rows["web"]["could_not_run"] == 1 and rows["web"]["overrule_rate"] is None
    app.switch_page("pages/overview.py").run()
    assert not app.exception, app.exception
    table = next(d.value for d in app.dataframe if "could_not_run" in d.value.columns)
    web = table[table["verifier"] == "web"].iloc[0]
    assert web["could_not_run"] == 1 and web["overruled"] == 0


def test_context_text_is_read_from_every_record_shape():
    from vcr_core.records.model import parse_record

    shapes = [
        {"context": {"description": "IFN gamma stimulation"}, "perturbation": {"name": "ruxolitinib"}},  # single shape
        {"context": "IFN gamma stimulation", "perturbation": {"name": "ruxolitinib"}},  # a context as text
        {"perturbation": {"perturbations": [{"name": "ruxolitinib"}], "context": "IFN gamma stimulation"}},  # Tahoe
        {"perturbation": {"perturbations": [{"name": "ruxolitinib"}], "context": {"condition": "IFN gamma stimulation"}}},
        {"perturbation": {"perturbations": [{"name": "ruxolitinib"}], "context": {"tissue": "IFN gamma stimulation"}}},
    ]
    for obj in shapes:
        record, problems = parse_record(obj, 0)
        assert not problems
        assert record.label == "ruxolitinib in IFN gamma stimulation", obj
        assert "IFN gamma stimulation" in record.context_text()
    cell, _ = parse_record({"context": {"cell_type": "A549", "description": "IFN gamma stimulation"},
                            "perturbation": {"name": "ruxolitinib"}}, 0)
    assert cell.label == "ruxolitinib in A549"  # the cell type stays the label
    none, _ = parse_record({"perturbation": {"name": "ruxolitinib"}}, 0)
    assert none.label == "ruxolitinib in unknown context"
