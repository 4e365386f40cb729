"""The state orders judgments by the time they were made, then id (issue 22): a judgment that arrives
later with a higher id (an import, a judgment brought back after a restore) but was made earlier never
overrides newer ones, and the kept state equals a rebuild."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.store import Claim, Curation


@pytest.fixture
def trace(engine, tmp_path):
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}]))
    tid = add_trace(engine, ingest_file(engine, path).batch_id, EXPLANATION)
    with Session(engine) as s:
        claims = [c.id for c in s.exec(select(Claim).where(Claim.trace_id == tid)).all()]
    return tid, claims


def _old(engine, **values) -> int:
    """A judgment stored after the others but made a day earlier (as an import stores it)."""
    with Session(engine) as s:
        row = Curation(created_at=datetime.now(timezone.utc) - timedelta(days=1), **values)
        s.add(row)
        s.commit()
        return row.id


def test_an_older_judgment_stored_later_does_not_override(engine, trace):
    tid, claims = trace
    cur.judge_trace(engine, tid, "ana", "reject", note="newer")
    old_id = _old(engine, target="trace", trace_id=tid, curator="ana", judgment="approve")
    assert old_id > cur.trace_state(engine, tid)["version"]
    cur.rebuild_state(engine, "one")
    state = cur.trace_state(engine, tid)
    assert state["status"] == "reject"
    assert state["version"] == old_id  # the staleness check still sees the newest row
    # an incremental update computes the same as the rebuild
    cur.judge_claim(engine, claims[0], "bo", "accept", rule="one")
    kept = cur.state_snapshot(engine)
    cur.rebuild_state(engine, "one")
    assert kept == cur.state_snapshot(engine)
    assert [c.judgment for c in cur.history(engine, tid)][:2] == ["approve", "reject"]


def test_two_agree_takes_the_two_latest_by_time(engine, trace):
    tid, claims = trace
    cur.judge_claim(engine, claims[0], "ana", "override", verdict="contradicted", tag="polarity", rule="two_agree")
    cur.judge_claim(engine, claims[0], "bo", "override", verdict="contradicted", tag="polarity", rule="two_agree")
    # carl's opinion was made before both: the two latest (ana, bo) agree
    _old(engine, target="claim", trace_id=tid, claim_id=claims[0], curator="carl", judgment="override",
         verdict="supported", tag="other", note="old")
    cur.rebuild_state(engine, "two_agree")
    st = {s.claim.id: s for s in cur.claim_states(engine, tid)}[claims[0]]
    assert (st.state_status, st.effective) == ("decided", "contradicted")
    assert list(st.opinions) == ["carl", "ana", "bo"]
