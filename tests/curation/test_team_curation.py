"""Curation for a team: consensus rule, conflicts, stale judgments, queues with leases, and the kept
state agreeing with the log after random judgment sequences."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.store import Claim


@pytest.fixture
def traces(engine, tmp_path):
    """A batch with three traces of the test explanation (no machine verdicts needed)."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}]))
    batch_id = ingest_file(engine, path).batch_id
    return [add_trace(engine, batch_id, EXPLANATION, run_name=f"r{i}") for i in range(3)]


def _claims(engine, trace_id):
    with Session(engine) as s:
        return {c.node_id: c.id for c in s.exec(select(Claim).where(Claim.trace_id == trace_id).order_by(Claim.position)).all()}


def test_two_agree_needs_a_second_opinion_and_disagreement_is_a_conflict(engine, traces):
    t = traces[0]
    c = _claims(engine, t)["n1"]
    cur.judge_trace(engine, t, "ana", "approve", rule="two_agree")
    assert cur.trace_status(engine, t) == "needs_second"
    assert cur.next_trace(engine, "bo", "second", now=0) == t
    assert cur.next_trace(engine, "ana", "second", now=0) is None  # ana already judged it
    cur.judge_trace(engine, t, "bo", "reject", rule="two_agree")
    assert cur.trace_status(engine, t) == "conflict"
    assert cur.next_trace(engine, "cy", "conflicts", now=0) == t
    cur.judge_trace(engine, t, "cy", "reject", rule="two_agree")  # a third curator settles it
    assert cur.trace_status(engine, t) == "reject"
    # claims: both judgments shown side by side with the machine's
    cur.judge_claim(engine, c, "ana", "accept", rule="two_agree")
    cur.judge_claim(engine, c, "bo", "override", verdict="contradicted", tag="polarity", rule="two_agree")
    assert cur.trace_status(engine, t) == "conflict"
    view = cur.conflict_view(engine, t)
    row = next(r for r in view["claims"] if r["node_id"] == "n1")
    assert row["status"] == "conflict" and "contradicted" in row["bo"] and "accept" in row["ana"] and "machine" in row


def test_one_curator_suffices_by_default(engine, traces):
    t = traces[0]
    cur.judge_trace(engine, t, "ana", "approve")
    assert cur.trace_status(engine, t) == "approve"
    cur.judge_trace(engine, t, "bo", "reject")
    assert cur.trace_status(engine, t) == "reject"


def test_a_stale_judgment_is_refused_with_who_judged_meanwhile(engine, traces):
    t = traces[0]
    c = _claims(engine, t)["n1"]
    seen = [s for s in cur.claim_states(engine, t) if s.claim.id == c][0].version
    seen_trace = cur.trace_state(engine, t)["version"]
    cur.judge_claim(engine, c, "ana", "override", verdict="contradicted", tag="polarity", seen_version=seen)
    with pytest.raises(cur.StaleJudgment, match="ana judged this meanwhile") as exc:
        cur.judge_claim(engine, c, "bo", "accept", seen_version=seen)
    assert exc.value.current["opinions"]["ana"]["verdict"] == "contradicted"  # the new state, to show
    with pytest.raises(cur.StaleJudgment, match="ana judged this meanwhile"):
        cur.judge_trace(engine, t, "bo", "approve", seen_version=seen_trace)
    # my own earlier judgment never makes my view stale
    cur.judge_trace(engine, t, "ana", "approve", seen_version=seen_trace)
    assert len(cur.history(engine, t)) == 2  # nothing of bo's was stored


def test_leases_hand_a_trace_to_one_curator_and_expire_on_their_own(engine, traces):
    a = cur.next_trace(engine, "ana", now=1000, lease_s=60)
    b = cur.next_trace(engine, "bo", now=1000, lease_s=60)
    assert a != b and {a, b} <= set(traces)
    assert cur.next_trace(engine, "ana", now=1010, lease_s=60) == a  # I get my own trace back first (renewed)
    assert cur.lease_holder(engine, a, now=1065) == "ana"
    assert cur.lease_holder(engine, a, now=1071) is None  # expired
    c = cur.next_trace(engine, "cy", now=1071, lease_s=60)
    assert c in traces  # expired leases go back to the queue
    cur.judge_trace(engine, c, "cy", "approve")
    assert cur.lease_holder(engine, c, now=1072) is None  # judging a trace releases it
    assert cur.queue_counts(engine, "dan", now=1072)["mine"] == 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["ana", "bo", "cy"]), st.integers(0, 2), st.integers(0, 3),
                                st.sampled_from(["accept", "override", "approve", "reject", "needs_work"]),
                                st.sampled_from(cur.VERDICTS)), min_size=1, max_size=25),
       rule=st.sampled_from(cur.CONSENSUS_RULES))
def test_kept_state_equals_the_state_rebuilt_from_the_log(engine, traces, steps, rule):
    from vcr_core.store import ClaimStateRow, Curation, TraceLease, TraceStateRow

    with engine.begin() as conn:  # hypothesis reuses the fixture: start every example from an empty log
        for table in (ClaimStateRow, TraceStateRow, TraceLease, Curation):
            conn.execute(table.__table__.delete())
    claims = {t: list(_claims(engine, t).values()) for t in traces}
    for curator, ti, ci, judgment, verdict in steps:
        t = traces[ti]
        if judgment in cur.CLAIM_JUDGMENTS:
            cid = claims[t][ci % len(claims[t])]
            cur.judge_claim(engine, cid, curator, judgment, verdict=verdict if judgment == "override" else None,
                            tag="polarity" if judgment == "override" else None, rule=rule)
        else:
            cur.judge_trace(engine, t, curator, judgment, rule=rule)
    kept = cur.state_snapshot(engine)
    cur.rebuild_state(engine, rule)
    rebuilt = cur.state_snapshot(engine)
    kept_traces = [r for r in kept[0] if r["n_judgments"]]  # rows a lock created before any judgment
    assert kept_traces == rebuilt[0]
    assert kept[1] == rebuilt[1]


def test_rebuild_state_command(engine, traces, capsys):
    from vcr_core.cli.main import main

    cur.judge_trace(engine, traces[0], "ana", "approve")
    assert main(["db", "rebuild-state", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"traces": 1, "claims": 0}
