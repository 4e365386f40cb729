"""One normalisation of curator identity: one person is one curator, whatever the spelling."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.kernel.identity import MAX_CURATOR_CHARS, IdentityError, curator_display, curator_key, same_curator
from vcr_core.store import Claim, Curation


@pytest.mark.parametrize("variant", ["Dora", "DORA", " dora ", "dora\u200b", "\u200bdo\u200dra", "ｄｏｒａ", "do\x00ra",
                                     "dora\ufeff", "d\u00adora", "dora\x1b", "\u202edora"])
def test_spellings_of_one_name_have_one_key(variant):
    assert curator_key(variant) == "dora"
    assert same_curator(variant, "dora")


def test_different_people_stay_different_and_the_typed_name_is_kept_for_display():
    assert curator_key("Ana López") != curator_key("Ana Lopez")
    assert curator_key("Straße") == curator_key("STRASSE")  # case folding, as Unicode defines it
    assert curator_display("  Ana\u200b  López\x00 ") == "Ana López"


@pytest.mark.parametrize("bad", ["", "   ", "\u200b\u200b", "\x00", None])
def test_empty_or_invisible_names_are_refused(bad):
    with pytest.raises(IdentityError, match="curator name"):
        curator_key(bad)


def test_long_names_are_refused_with_one_line():
    assert curator_key("a" * MAX_CURATOR_CHARS) == "a" * MAX_CURATOR_CHARS
    with pytest.raises(IdentityError) as info:
        curator_key("a" * 10_000)
    assert f"at most {MAX_CURATOR_CHARS} characters" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(IdentityError):
        curator_key("\ufdfa" * 60)  # one character NFKC expands to 18: the limit is on the key


def _claim(engine, trace_id):
    with Session(engine) as s:
        return s.exec(select(Claim.id).where(Claim.trace_id == trace_id)).first()


@pytest.mark.parametrize("second", ["Dora", "dora\u200b", "ＤＯＲＡ"])
def test_one_person_under_two_spellings_does_not_meet_two_agree(engine, trace_id, second):
    cur.judge_trace(engine, trace_id, "dora", "approve", rule="two_agree")
    cur.judge_trace(engine, trace_id, second, "approve", rule="two_agree")
    state = cur.trace_state(engine, trace_id)
    assert state["status"] == "needs_second" and list(state["opinions"]) == ["dora"] and state["curators"] == ["dora"]
    cid = _claim(engine, trace_id)
    cur.judge_claim(engine, cid, "Dora", "accept", rule="two_agree")
    cur.judge_claim(engine, cid, "dora\u200b", "accept", rule="two_agree")
    assert {s.claim.id: s for s in cur.claim_states(engine, trace_id)}[cid].state_status == "needs_second"
    cur.judge_trace(engine, trace_id, "Eve", "approve", rule="two_agree")
    assert cur.trace_status(engine, trace_id) == "approve"  # a second person meets the rule


def test_judgments_store_the_key_and_the_name_as_typed(engine, trace_id):
    cur.judge_trace(engine, trace_id, "  Ana\u200b López ", "approve")
    with Session(engine) as s:
        row = s.exec(select(Curation)).one()
    assert row.curator == "ana lópez" and row.curator_display == "Ana López"
    with pytest.raises(cur.CurationError, match="at most"):
        cur.judge_trace(engine, trace_id, "x" * 10_000, "approve")
    with pytest.raises(cur.CurationError, match="curator name"):
        cur.judge_trace(engine, trace_id, "\x00", "approve")


def test_leases_and_queues_know_one_curator_under_any_spelling(engine, trace_id):
    assert cur.acquire_lease(engine, trace_id, "Dora", now=1000.0, lease_s=60)
    assert cur.acquire_lease(engine, trace_id, "dora\u200b", now=1001.0, lease_s=60)  # the same curator renews
    assert not cur.acquire_lease(engine, trace_id, "ben", now=1002.0, lease_s=60)
    assert cur.lease_holder(engine, trace_id, now=1003.0) == "dora"
    assert cur.next_trace(engine, "DORA", now=1004.0, lease_s=60) == trace_id
    cur.release_lease(engine, trace_id, "Dora\u200b")
    assert cur.lease_holder(engine, trace_id, now=1005.0) is None


def test_state_folds_names_stored_before_normalisation(engine, trace_id):
    """Rows written by an older version hold the name as typed: the state counts them as one curator."""
    from vcr_core.store import session_scope

    with session_scope(engine) as s:
        for name in ("Dora", "dora"):
            s.add(Curation(target="trace", trace_id=trace_id, curator=name, judgment="approve"))
    cur.rebuild_state(engine, "two_agree")
    assert cur.trace_state(engine, trace_id)["status"] == "needs_second"
