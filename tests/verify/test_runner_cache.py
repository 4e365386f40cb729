"""The runner's verdict cache read in bulk: a bounded number of queries per trace however many claims
it has, and exactly the reuse decisions of the per-claim query (``runner._cached``)."""
from __future__ import annotations

import json

from sqlalchemy import event
from sqlmodel import Session, select

from vcr_core.files.ingest import ingest_file
from vcr_core.store import Claim, Trace, Verdict
from vcr_core.verify import runner, verify_traces
from vcr_core.verify.base import ClaimVerdict
from vcr_core.verify.testing import add_trace


def _explanation(n: int) -> str:
    """A trace with ``n`` binds_to claims (distinct targets) under one context."""
    lines = ['set_context(cell_type="K562", disease="chronic myeloid leukaemia")']
    lines += [f'binds_to(id="n{i}", actor="imatinib", target="GENE{i}")' for i in range(1, n + 1)]
    dag = [f'edge("n1", "n{i}", relation="causal")' for i in range(2, n + 1)]
    return ("<answer>Imatinib binds many things.</answer>\n<explain>\n" + "\n".join(lines) + "\n</explain>\n<dag>\n"
            + "\n".join(dag) + "\n</dag>")


class Counting:
    """A verifier that answers every binds_to claim and counts its calls."""

    def __init__(self, name: str, version: str = "1") -> None:
        self.name, self.version, self.calls = name, version, 0

    def applies(self, node) -> bool:
        return node.action == "binds_to"

    def verify(self, ctx) -> ClaimVerdict:
        self.calls += 1
        return ClaimVerdict("supported", 0.9, [{"kind": "test", "node": ctx.node.id}], f"{self.name} {ctx.node.args['target']}")


def _batch(engine, tmp_path, name: str) -> int:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukaemia"},
                                 "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"]},
                                 "note": name}]))  # distinct content: the same file twice is one batch
    res = ingest_file(engine, path)
    assert res.ok
    return res.batch_id


class SelectCounter:
    """Counts SELECT statements that read verdict rows (a SQLAlchemy engine event listener)."""

    def __init__(self, engine) -> None:
        self.engine, self.verdict_selects, self.selects = engine, 0, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects += 1
            if "FROM verdict" in statement:
                self.verdict_selects += 1


def _verify_counting(engine, trace_id: int) -> SelectCounter:
    inst = {"kg": Counting("kg"), "literature": Counting("literature"), "expression": Counting("expression")}
    with SelectCounter(engine) as c:
        verify_traces(engine, [trace_id], ["structural", "kg", "literature", "expression"], instances=inst)
    return c


def test_queries_per_trace_do_not_grow_with_claims(engine, tmp_path):
    batch = _batch(engine, tmp_path, "b")
    small = _verify_counting(engine, add_trace(engine, batch, _explanation(3), run_name="small"))
    big = _verify_counting(engine, add_trace(engine, batch, _explanation(60), run_name="big"))
    # the cache of claim verdicts is one query per trace (plus structural's own and the policy's)
    assert big.verdict_selects == small.verdict_selects <= 4
    assert big.selects == small.selects
    # and warm (every verdict already stored): still the same number
    again = _verify_counting(engine, add_trace(engine, batch, _explanation(60), run_name="big2"))
    assert again.verdict_selects == small.verdict_selects


def test_many_hashes_are_read_in_chunks(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "_IN_CHUNK", 7)
    batch = _batch(engine, tmp_path, "b")
    first = add_trace(engine, batch, _explanation(20), run_name="one")
    kg = Counting("kg")
    verify_traces(engine, [first], ["kg"], instances={"kg": kg})
    second = add_trace(engine, batch, _explanation(20), run_name="two")
    out = verify_traces(engine, [second], ["kg"], instances={"kg": kg})
    assert kg.calls == 20 and out["cached"] == 20 and out["computed"] == 0


def _decisions(engine, trace_id: int, versions: dict[str, str]):
    """(bulk answer, per-claim answer) for every claim of a trace and every verifier."""
    with Session(engine) as s:
        trace = s.get(Trace, trace_id)
        from vcr_core.store import Record
        batch = s.get(Record, trace.record_id).batch_id
        claims = s.exec(select(Claim).where(Claim.trace_id == trace_id).order_by(Claim.position)).all()
        index = runner._cache_index(s, list(claims), versions)
        bulk, single = [], []
        for c in claims:
            for name, version in versions.items():
                d, r = runner._cached_in(index, c, name, batch)
                bulk.append((c.id, name, d, r.id if r else None))
                d, r = runner._cached(s, c, name, version, batch)
                single.append((c.id, name, d, r.id if r else None))
        return bulk, single


def test_bulk_cache_decides_exactly_as_the_per_claim_query(engine, tmp_path):
    a, b = _batch(engine, tmp_path, "a"), _batch(engine, tmp_path, "b")
    assert a != b
    names = ["kg", "literature", "expression"]
    t1 = add_trace(engine, a, _explanation(4), run_name="a1")
    verify_traces(engine, [t1], names, instances={n: Counting(n) for n in names})
    # an older verifier version and another batch add rows that must not be reused
    t_old = add_trace(engine, a, _explanation(6), run_name="a-old")
    verify_traces(engine, [t_old], ["kg"], instances={"kg": Counting("kg", "0")})
    t_b = add_trace(engine, b, _explanation(5), run_name="b1")
    versions = {n: "1" for n in names}
    for t in (t1, t_old, t_b):
        bulk, single = _decisions(engine, t, versions)
        assert bulk == single
    # what the runner does with it: kg and literature copied across batches, expression recomputed
    inst = {n: Counting(n) for n in names}
    out = verify_traces(engine, [t_b], names, instances=inst)
    # GENE5 is new everywhere; expression rows of batch a are not reused in batch b
    assert [inst[n].calls for n in names] == [1, 1, 5] and out["cached"] == 8
    with Session(engine) as s:
        rows = s.exec(select(Verdict).where(Verdict.trace_id == t_b, Verdict.verifier == "kg")).all()
    copied = [r for r in rows if "same claim verified in trace" in r.message]
    assert len(rows) == 5 and len(copied) == 4
    assert all(r.message.endswith(f"(same claim verified in trace {t1})") for r in copied)
    for t in (t1, t_old, t_b):
        bulk, single = _decisions(engine, t, versions)
        assert bulk == single
    # the older version: only its own rows count
    bulk, single = _decisions(engine, t_old, {"kg": "0"})
    assert bulk == single and all(d for _, _, d, _ in bulk)


def test_no_claims_no_query(engine):
    with SelectCounter(engine) as c, Session(engine) as s:
        assert runner._cache_index(s, [], {"kg": "1"}) == {}
    assert c.selects == 0


def test_queued_rows_are_stored_as_orm_rows_would_be(engine, tmp_path):
    """The bulk insert of queued rows stores what adding ``Verdict`` objects stored (JSON, None, tz)."""
    batch = _batch(engine, tmp_path, "b")
    t = add_trace(engine, batch, _explanation(2), run_name="w")
    with Session(engine) as s:
        claim = s.exec(select(Claim).where(Claim.trace_id == t)).first()
    pending: list[dict] = []
    cvs = [ClaimVerdict("supported", 0.9, [{"kind": "x", "ids": ["HGNC:76"], "n": 1.5}], "m"),
           ClaimVerdict("unverifiable", 0.0, [], None)]
    for cv in cvs:
        runner._add(pending, t, claim, "kg", "1", cv)
    runner._add(pending, t, None, "structural", "1", cvs[0])
    from vcr_core.store import session_scope
    with session_scope(engine) as s:
        runner._write_verdicts(s, pending)
        for cv in cvs:  # the same rows the ORM way, for comparison
            s.add(Verdict(trace_id=t, claim_id=claim.id, claim_hash=claim.hash, verifier="orm", version="1", verdict=cv.verdict,
                          score=cv.score, evidence=cv.evidence, message=cv.message))
        runner._write_verdicts(s, [])  # nothing queued: nothing written
    with Session(engine) as s:
        rows = s.exec(select(Verdict).where(Verdict.trace_id == t).order_by(Verdict.id)).all()
    cols = ("trace_id", "claim_id", "claim_hash", "version", "verdict", "score", "evidence", "message")
    bulk = [r for r in rows if r.verifier == "kg"]
    orm = [r for r in rows if r.verifier == "orm"]
    assert [tuple(getattr(r, c) for c in cols) for r in bulk] == [tuple(getattr(r, c) for c in cols) for r in orm]
    assert bulk[0].id < bulk[1].id and bulk[0].created_at is not None
    assert type(bulk[0].created_at) is type(orm[0].created_at)
    trace_level = [r for r in rows if r.verifier == "structural"]
    assert len(trace_level) == 1 and trace_level[0].claim_id is None and trace_level[0].claim_hash is None


def test_the_cache_reads_through_its_index_which_leaves_curated_verdicts_out(engine, tmp_path):
    """Issue 21: a judgment writes one ``curated`` verdict per claim it decides; those are never looked up by
    hash, so the cache's (claim hash, verifier, version) index leaves them out (a judgment then writes ~50 fewer
    random index pages), and both cache queries still search that index."""
    from sqlalchemy import text

    with engine.connect() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_verdict_cache'")).scalar_one()
    assert "WHERE verifier != 'curated'" in ddl
    seen: list[tuple[str, object]] = []

    def on(conn, cursor, statement, parameters, context, executemany):
        if "FROM verdict" in statement and "claim_hash" in statement.split("WHERE", 1)[-1]:
            seen.append((statement, parameters))

    batch = _batch(engine, tmp_path, "b")
    t = add_trace(engine, batch, _explanation(3), run_name="idx")
    event.listen(engine, "before_cursor_execute", on)
    try:
        verify_traces(engine, [t], ["kg"], instances={"kg": Counting("kg")})  # the bulk read
        _decisions(engine, t, {"kg": "1"})  # and the per-claim one
    finally:
        event.remove(engine, "before_cursor_execute", on)
    assert len({s for s, _ in seen}) >= 2
    with engine.connect() as conn:
        for statement, params in seen:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
            assert "USING INDEX ix_verdict_cache" in plan, (statement, plan)
