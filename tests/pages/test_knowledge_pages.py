"""Review says which judgment decided a claim elsewhere; the Team knowledge page lists judged cores and
judges one core at once (AppTest)."""
from __future__ import annotations

from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.curation import reuse
from vcr_core.store import Claim


def _claim(engine, trace_id, node_id):
    with Session(engine) as s:
        return s.exec(select(Claim).where(Claim.trace_id == trace_id, Claim.node_id == node_id)).first()


def test_review_says_which_judgment_decided_a_claim(app, engine, seeded):
    from vcr_core.verify.testing import EXPLANATION, add_trace

    first = seeded["trace_id"]
    second = add_trace(engine, seeded["batch_id"], EXPLANATION, run_name="another model")
    cur.judge_claim(engine, _claim(engine, first, "n2").id, "bo", "override", verdict="contradicted", tag="polarity")
    app.switch_page("pages/review.py").run()  # the uncurated trace comes first
    assert not app.exception, app.exception
    assert any(f"trace #{second}" in c.value for c in app.caption)
    decided = [c.value.replace("\\", "") for c in app.caption if "decided by bo's judgment" in c.value]  # markdown-escaped
    assert decided and f"trace #{first}" in decided[0] and "same perturbation and cell line" in decided[0]
    # the claim's own card offers a revoke only to the curator who judged
    assert not any(b.key == f"revoke_{_claim(engine, second, 'n2').id}" for b in app.button)


def test_team_knowledge_page_lists_cores_and_judges_one_at_once(app, engine, seeded):
    from vcr_core.verify.testing import EXPLANATION, add_trace

    tid = seeded["trace_id"]
    second = add_trace(engine, seeded["batch_id"], EXPLANATION, run_name="another model")
    cur.judge_claim(engine, _claim(engine, tid, "n1").id, "bo", "override", verdict="supported", tag="correct")
    app.switch_page("pages/knowledge.py").run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert list(table["primitive"]) == ["binds_to"] and table["traces decided"][0] == 2 and table["curators"][0] == "bo"
    before = reuse.undecided_claims(engine)
    app.selectbox(key="kn_verdict").select("contradicted")
    app.button(key="FormSubmitter:judge_core-Judge every occurrence in scope").click().run()
    assert not app.exception, app.exception
    assert reuse.undecided_claims(engine) == before - 2  # one click, the core's claim in both traces
    assert {cur.claim_states(engine, t)[1].effective for t in (tid, second)} == {"contradicted"}
