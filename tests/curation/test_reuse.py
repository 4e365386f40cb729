"""Curation that compounds (issue 21): a claim's core identity and stored grounding, scope per primitive,
and a judgment deciding every claim with the same core in scope (override, revoke, two_agree, conflicts)."""
from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.curation import reuse
from vcr_core.curation.core import claim_core, identify_claims
from vcr_core.formalism import parse_text
from vcr_core.store import Claim, ClaimReuseRow, Record, Run, Verdict, session_scope
from vcr_core.store.grounding import claim_grounding
from vcr_core.store.traces import save_trace
from vcr_core.verify.policy import aggregate_claim_verdict

# Two models word one fact differently: "ABL1" / "c-ABL", via and affinity free text, a mechanism note.
MODEL_A = '''<explain>
set_context(cell_type="{cell}")
binds_to(id="n1", actor="{drug}", target="ABL1")
modulates_molecule_activity(id="n2", target="ABL1", direction="down", via="n1")
regulates_expression(id="n3", regulator="ABL1", gene_list=["MYC"], direction="down", via="n2")
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n2", "n3", relation="causal")
</dag>'''
MODEL_B = '''<explain>
set_context(cell_type="{cell}")
binds_to(id="a", actor="{drug}", target="c-ABL", affinity="21", unit="nM", via="ATP pocket")
modulates_molecule_activity(id="b", target="c-ABL", direction="down", via="kinase inhibition")
regulates_expression(id="c", regulator="c-ABL", gene_list=["c-Myc"], direction="down", mechanism="less E2F")
</explain>
<dag>
edge("a", "b", relation="causal")
edge("b", "c", relation="causal")
</dag>'''
RECORDS = [("1", "imatinib", "K562"), ("2", "imatinib", "HCT116"), ("3", "gefitinib", "A549")]


def _save(engine, batch_id, index, text, run_name, after=False):
    with session_scope(engine) as s:
        rec = s.exec(select(Record).where(Record.batch_id == batch_id, Record.index == index)).one()
        run = Run(name=run_name, batch_id=batch_id, mode="explain-only", status="done")
        s.add(run)
        s.flush()
        trace = save_trace(s, run_id=run.id, record=rec, explanation=parse_text(text).explanation)
        if after:
            reuse.after_save(s, trace, rule="one")
        return trace.id


@pytest.fixture
def grid(engine, tmp_path):
    """Traces: model A and model B on imatinib/K562, model A on imatinib/HCT116 and on gefitinib/A549."""
    from vcr_core.files.ingest import ingest_file

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": i, "context": {"cell_type": c}, "perturbation": {"name": d}} for i, d, c in RECORDS]))
    batch_id = ingest_file(engine, path).batch_id
    t = {"a_k562": _save(engine, batch_id, "1", MODEL_A.format(drug="imatinib", cell="K562"), "a1"),
         "b_k562": _save(engine, batch_id, "1", MODEL_B.format(drug="Imatinib", cell="K562"), "b1"),
         "a_hct": _save(engine, batch_id, "2", MODEL_A.format(drug="imatinib", cell="HCT116"), "a2"),
         "a_gef": _save(engine, batch_id, "3", MODEL_A.format(drug="gefitinib", cell="A549"), "a3")}
    identify_claims(engine)  # as a database migrated to 0006 does on first use
    return {"batch_id": batch_id, "traces": t}


def _claims(engine, trace_id) -> dict[str, Claim]:
    with Session(engine) as s:
        return {c.action: c for c in s.exec(select(Claim).where(Claim.trace_id == trace_id)).all()}


def _reused(engine, claim_id):
    with Session(engine) as s:
        return s.get(ClaimReuseRow, claim_id)


def _curated_verdict(engine, claim_id):
    with Session(engine) as s:
        rows = s.exec(select(Verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id)).all()
    return aggregate_claim_verdict(rows)[0], [r for r in rows if r.verifier == "curated"]


def test_core_identity_leaves_free_text_out_and_grounds_entities(engine, grid):
    a, b = _claims(engine, grid["traces"]["a_k562"]), _claims(engine, grid["traces"]["b_k562"])
    for action in ("binds_to", "modulates_molecule_activity", "regulates_expression"):
        assert a[action].core == b[action].core, action  # "ABL1" = "c-ABL", "MYC" = "c-Myc", via/affinity left out
        assert a[action].hash != b[action].hash  # the full hash stays the exact identity
    g = claim_grounding(a["binds_to"])
    assert g["target"][0]["identifier"] == "HGNC:76" and g["target"][0]["namespace"] == "HGNC"
    assert g["actor"][0]["method"] == "NER dictionary" and g["actor"][0]["namespace"] != "text"  # imatinib, a chemical
    assert claim_grounding(a["binds_to"].id, engine) == g
    assert a["binds_to"].grounding["scope"] == "any" and a["regulates_expression"].grounding["scope"] == "context"
    # a family stays a family; direction is part of the core
    fam, _ = claim_core("modulates_molecule_activity", {"target": "ERK1/2", "direction": "down"})
    member, _ = claim_core("modulates_molecule_activity", {"target": "MAPK1", "direction": "down"})
    up, _ = claim_core("modulates_molecule_activity", {"target": "ERK", "direction": "up"})
    same, info = claim_core("modulates_molecule_activity", {"target": "ERK", "direction": "down", "via": "MEK"})
    assert fam == same and fam != member and fam != up and info["args"]["target"][0]["identifier"] == "FPLX:ERK"


def test_context_bound_judgment_is_not_reused_in_another_cell_line(engine, grid):
    t = grid["traces"]
    a, b, hct, gef = (_claims(engine, t[k]) for k in ("a_k562", "b_k562", "a_hct", "a_gef"))
    for action in ("binds_to", "modulates_molecule_activity", "regulates_expression"):
        cur.judge_claim(engine, a[action].id, "ana", "override", verdict="supported", tag="correct", rule="one")
    # same perturbation, same cell line (model B's wording): every claim decided
    for action in ("binds_to", "modulates_molecule_activity", "regulates_expression"):
        row = _reused(engine, b[action].id)
        assert row is not None and row.status == "decided" and row.verdict == "supported"
        assert f"ana's judgment on trace #{t['a_k562']}" in row.source["message"]
    # another cell line: binding (any) and the drug's effect on its target (perturbation) hold, expression does not
    assert _reused(engine, hct["binds_to"].id).verdict == "supported"
    assert "any cell line" in _reused(engine, hct["modulates_molecule_activity"].id).source["message"]
    assert _reused(engine, hct["regulates_expression"].id) is None
    # another drug: the target-activity claim is not reused; gefitinib's binding claim has another core anyway
    assert _reused(engine, gef["modulates_molecule_activity"].id) is None
    assert _reused(engine, gef["binds_to"].id) is None
    # the Review read model says who decided it
    states = {st.claim.action: st for st in cur.claim_states(engine, t["a_hct"])}
    assert states["binds_to"].effective == "supported" and "decided by ana" in states["binds_to"].decided_by
    assert states["regulates_expression"].decided_by is None
    # a curator widens the scope with a reason; without one it is refused and nothing is stored
    with pytest.raises(cur.CurationError, match="needs a reason"):
        cur.judge_claim(engine, a["regulates_expression"].id, "ana", "accept", scope="perturbation", rule="one")
    cur.judge_claim(engine, a["regulates_expression"].id, "ana", "override", verdict="supported", tag="correct",
                    scope="perturbation", scope_reason="MYC loss follows ABL1 inhibition in any cell line", rule="one")
    row = _reused(engine, hct["regulates_expression"].id)
    assert row.verdict == "supported" and "any cell line" in row.source["message"] and "MYC loss" in row.source["message"]


def test_a_context_bound_judgment_compares_missing_context_keys_as_missing(engine, grid):
    """Claims whose cell line could not be keyed (NULL) are one context among themselves, never another's."""
    from sqlalchemy import update

    t = grid["traces"]
    a, b, hct = (_claims(engine, t[k]) for k in ("a_k562", "b_k562", "a_hct"))
    with engine.begin() as conn:
        conn.execute(update(Claim).where(Claim.id.in_([a["regulates_expression"].id, b["regulates_expression"].id]))
                     .values(cell_key=None))
    cur.judge_claim(engine, a["regulates_expression"].id, "ana", "override", verdict="supported", tag="correct", rule="one")
    assert _reused(engine, b["regulates_expression"].id).verdict == "supported"
    assert _reused(engine, hct["regulates_expression"].id) is None


def test_the_bulk_statements_under_the_lock_have_one_text_whatever_the_number_of_claims(engine, grid):
    """The reuse rows and curated verdicts of any number of claims are written by statements of one text (the
    ids bound as one parameter), so neither SQLAlchemy nor SQLite prepares them again per list length."""
    from sqlalchemy import event

    t = grid["traces"]
    a = _claims(engine, t["a_k562"])
    texts: list[str] = []
    listener = lambda _c, _cur, statement, *_rest: texts.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:  # binds_to decides two other claims, regulates_expression one, then a revoke withdraws two
        for action in ("binds_to", "regulates_expression"):
            cur.judge_claim(engine, a[action].id, "ana", "override", verdict="supported", tag="correct", rule="one")
        cur.judge_claim(engine, a["binds_to"].id, "ana", "revoke", rule="one")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    for table in ("verdict", "claim_reuse"):
        written = {s for s in texts if s.startswith(f"INSERT INTO {table} ")}
        assert len(written) == 1, written
    deleted = [s for s in texts if s.startswith("DELETE FROM claim_reuse")]
    assert deleted and "json_each(?)" in deleted[0]
    assert _reused(engine, _claims(engine, t["a_hct"])["binds_to"].id) is None


def test_override_propagates_and_revoke_withdraws_the_reuse(engine, grid):
    t = grid["traces"]
    a, hct = _claims(engine, t["a_k562"]), _claims(engine, t["a_hct"])
    target = hct["binds_to"].id
    cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="supported", tag="correct", rule="one")
    assert _curated_verdict(engine, target)[0] == "supported"
    cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="contradicted", tag="no_relation", rule="one")
    verdict, rows = _curated_verdict(engine, target)
    assert verdict == "contradicted" and _reused(engine, target).verdict == "contradicted"
    assert [r.verdict for r in rows] == ["supported", "contradicted"]  # appended, never overwritten
    assert rows[-1].evidence[0]["curator"] == "ana" and rows[-1].evidence[0]["trace_id"] == t["a_k562"]
    cur.judge_claim(engine, a["binds_to"].id, "ana", "revoke", rule="one")
    verdict, rows = _curated_verdict(engine, target)
    assert _reused(engine, target) is None and verdict == "unverifiable" and "withdrawn" in rows[-1].message
    with pytest.raises(cur.CurationError, match="no judgment on this claim to revoke"):
        cur.judge_claim(engine, a["binds_to"].id, "ana", "revoke", rule="one")
    # the revoked claim's own state is back to uncurated, and rebuilding the state from the log agrees
    kept = cur.state_snapshot(engine)
    cur.rebuild_state(engine, rule="one")
    assert cur.state_snapshot(engine) == kept


def test_reuse_never_overwrites_a_claims_own_judgment(engine, grid):
    t = grid["traces"]
    a, b = _claims(engine, t["a_k562"]), _claims(engine, t["b_k562"])
    cur.judge_claim(engine, b["binds_to"].id, "bo", "override", verdict="contradicted", tag="no_relation", rule="one")
    cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="supported", tag="correct", rule="one")
    assert _reused(engine, b["binds_to"].id) is None and _reused(engine, a["binds_to"].id) is None
    states = {st.claim.action: st for st in cur.claim_states(engine, t["b_k562"])}
    assert states["binds_to"].effective == "contradicted"
    # the HCT116 claim follows the latest judgment on the core under 'one'
    assert _reused(engine, _claims(engine, t["a_hct"])["binds_to"].id).verdict == "supported"


def test_two_agree_needs_two_curators_on_the_core_and_disagreement_is_one_conflict(engine, grid):
    t = grid["traces"]
    a, b, hct = (_claims(engine, t[k]) for k in ("a_k562", "b_k562", "a_hct"))
    cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="supported", tag="correct", rule="two_agree")
    assert _reused(engine, hct["binds_to"].id).status == "needs_second"
    assert _curated_verdict(engine, hct["binds_to"].id)[1] == []  # nothing decided yet
    cur.judge_claim(engine, b["binds_to"].id, "bo", "override", verdict="supported", tag="correct", rule="two_agree")
    row = _reused(engine, hct["binds_to"].id)
    assert row.status == "decided" and row.verdict == "supported" and {j["curator"] for j in row.source["judgments"]} == {"ana", "bo"}
    assert _reused(engine, a["binds_to"].id).status == "decided"  # ana's own claim: settled by the core's two curators
    cur.judge_claim(engine, b["binds_to"].id, "bo", "override", verdict="contradicted", tag="no_relation", rule="two_agree")
    assert _reused(engine, hct["binds_to"].id).status == "conflict"
    assert _curated_verdict(engine, hct["binds_to"].id)[0] == "unverifiable"  # the reused verdict is withdrawn
    conflicts = [c for c in reuse.core_conflicts(engine) if c["core"] == hct["binds_to"].core]
    assert len(conflicts) == 1 and set(conflicts[0]["traces"]) >= {t["a_k562"], t["b_k562"], t["a_hct"]}


def test_later_traces_get_what_the_team_decided_and_the_verifier_reports_it(engine, grid):
    from vcr_core.store.traces import record_model
    from vcr_core.verify.base import ClaimContext

    t = grid["traces"]
    a = _claims(engine, t["a_k562"])
    cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="supported", tag="correct", rule="one")
    later = _save(engine, grid["batch_id"], "2", MODEL_B.format(drug="imatinib", cell="HCT116"), "later", after=True)
    claims = _claims(engine, later)
    assert claims["binds_to"].core == a["binds_to"].core and claims["binds_to"].grounding["context"]["cell"]
    assert _reused(engine, claims["binds_to"].id).verdict == "supported"
    assert _reused(engine, claims["regulates_expression"].id) is None
    # the curated verifier, as the runner would call it
    v = reuse.CuratedVerifier(engine)
    explanation = parse_text(MODEL_B.format(drug="imatinib", cell="HCT116")).explanation
    node = next(n for n in explanation.nodes if n.action == "binds_to")
    with Session(engine) as s:
        record = record_model(s.exec(select(Record).where(Record.index == "2")).one())
    ans = v.verify(ClaimContext(node=node, explanation=explanation, record=record, trace_id=later))
    assert ans.verdict == "supported" and ans.evidence[0]["curator"] == "ana"


def test_core_queue_serves_the_core_undecided_in_most_traces_first(engine, grid):
    q = reuse.core_queue(engine)
    # regulates_expression(ABL1 -> MYC down) and ABL1 activity down: one core each in all four traces
    expr = _claims(engine, grid["traces"]["a_gef"])["regulates_expression"].core
    assert [r["traces"] for r in q[:2]] == [4, 4] and expr in {r["core"] for r in q[:2]} and q[2]["traces"] < 4
    top = next(r for r in q if r["core"] == expr)
    view = reuse.core_view(engine, top["core"])
    assert len(view["traces"]) == 4 and view["grounding"]["gene_list"][0]["identifier"] == "HGNC:7553"
    before = reuse.undecided_claims(engine)
    cur.judge_claim(engine, top["claim_id"], "ana", "override", verdict="supported", tag="correct", rule="one")
    assert reuse.undecided_claims(engine) == before - 2  # its own claim and model B's in K562; context-bound
    again = {r["core"]: r["traces"] for r in reuse.core_queue(engine)}
    assert again[top["core"]] == 2  # still undecided in HCT116 and A549


def test_knowledge_export_and_import_into_another_database_decides_its_claims(engine, grid, tmp_path, capsys, monkeypatch):
    from vcr_core.cli.main import main
    from vcr_core.curation.knowledge import export_knowledge, import_knowledge, judged_cores
    from vcr_core.files.ingest import ingest_file
    from vcr_core.kernel.settings import get_settings
    from vcr_core.store import get_engine

    t = grid["traces"]
    a = _claims(engine, t["a_k562"])
    cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="supported", tag="correct", note="ChEMBL IC50",
                    rule="one")
    cur.judge_claim(engine, a["regulates_expression"].id, "bo", "override", verdict="contradicted", tag="polarity", rule="one")
    cores = {r["primitive"]: r for r in judged_cores(engine, rule="one")}
    assert cores["binds_to"]["verdict"] == "supported" and cores["binds_to"]["curators"] == ["ana"]
    assert cores["binds_to"]["traces_decided"] == 3 and cores["regulates_expression"]["traces_decided"] == 2
    assert cores["binds_to"]["entities"]["target"] == ["HGNC:76"]
    assert b"HGNC:76" in export_knowledge(engine, "csv", rule="one").splitlines()[1]
    assert main(["knowledge", "export", "-o", str(tmp_path / "team.jsonl")]) == 0
    data = (tmp_path / "team.jsonl").read_bytes()
    assert len(data.splitlines()) == 2

    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    other = get_engine(other_url)
    path = tmp_path / "o.json"
    path.write_text(json.dumps([{"index": "9", "context": {"cell_type": "HCT116"}, "perturbation": {"name": "Imatinib"}}]))
    bid = ingest_file(other, path).batch_id
    tid = _save(other, bid, "9", MODEL_B.format(drug="imatinib", cell="HCT116"), "there", after=True)
    tid2 = _save(other, bid, "9", MODEL_A.format(drug="imatinib", cell="HCT116"), "there too", after=True)
    with pytest.raises(cur.CurationError, match="line 1"):
        import_knowledge(other, b"not json\n", rule="one")
    monkeypatch.setenv("DATABASE_URL", other_url)
    get_settings.cache_clear()
    capsys.readouterr()
    assert main(["knowledge", "import", str(tmp_path / "team.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "1 judgment(s) replayed" in out and "1 judgment(s) whose claim does not occur here" in out  # K562 expression
    there = {st.claim.action: st for st in cur.claim_states(other, tid2)}
    assert there["binds_to"].effective == "supported"
    assert there["binds_to"].decided_by and "ana" in there["binds_to"].decided_by
    assert there["regulates_expression"].effective is None  # context-bound: K562 knowledge does not decide HCT116
    assert {st.claim.action: st for st in cur.claim_states(other, tid)}["binds_to"].effective == "supported"


def test_claims_stored_before_cores_get_theirs_on_first_use(engine, tmp_path):
    """Migration 0006 leaves stored claims without a core; the first judgment identifies them, then reuses."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify.testing import add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": "1", "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}]))
    bid = ingest_file(engine, path).batch_id
    first = add_trace(engine, bid, MODEL_A.format(drug="imatinib", cell="K562"), run_name="old 1")  # saved without a core
    second = add_trace(engine, bid, MODEL_B.format(drug="imatinib", cell="K562"), run_name="old 2")
    assert _claims(engine, first)["binds_to"].core is None
    cur.judge_claim(engine, _claims(engine, first)["binds_to"].id, "ana", "override", verdict="supported", tag="correct",
                    rule="one")
    assert _claims(engine, first)["binds_to"].core is not None
    assert _reused(engine, _claims(engine, second)["binds_to"].id).verdict == "supported"
    # generation saves traces without cores; the next reader (core queue, judgment, vcr knowledge) identifies
    # them and applies what the team decided, in the same transaction
    third = add_trace(engine, bid, MODEL_B.format(drug="Imatinib", cell="K562"), run_name="generated later")
    assert _reused(engine, _claims(engine, third)["binds_to"].id) is None
    reuse.core_queue(engine)
    assert _reused(engine, _claims(engine, third)["binds_to"].id).verdict == "supported"


def test_a_generated_trace_is_saved_with_its_cores_and_the_teams_decision(engine, batch, server):
    """Generation grounds at save: a new trace whose claim core the team already judged is decided by
    reuse when the worker stores it, with no core queue, identify or rebuild call in between."""
    from vcr_core.generation import create_run
    from vcr_core.jobs import Worker
    from vcr_core.store import Trace

    def generate() -> list[Claim]:
        run_id = create_run(engine, batch_id=batch, record_ids=None, tools=[], model_type=None, model="scripted",
                            mode="explain-only", options={"api_base": server.base_url}, created_by="tester")
        assert Worker(engine, exit_when_idle=True).run() >= 1
        with Session(engine) as s:
            return s.exec(select(Claim).join(Trace, Trace.id == Claim.trace_id).where(Trace.run_id == run_id)
                          .order_by(Claim.id)).all()

    first = generate()
    assert first and all(c.core and c.pert_key and c.cell_key and c.grounding for c in first)  # stored at save
    judged = next(c for c in first if c.action == "binds_to")
    cur.judge_claim(engine, judged.id, "ana", "override", verdict="contradicted", tag="no_relation", rule="one")
    second = generate()
    same = [c for c in second if c.core == judged.core]
    assert len(same) == 1  # the same drug's binding claim in the new run; other drugs bind as other cores
    row = _reused(engine, same[0].id)
    assert row is not None and (row.status, row.verdict) == ("decided", "contradicted")
    effective, curated = _curated_verdict(engine, same[0].id)
    assert effective == "contradicted" and len(curated) == 1
    assert curated[0].evidence[0]["curator"] == "ana" and curated[0].evidence[0]["trace_id"] == judged.trace_id
    assert all(_reused(engine, c.id) is None for c in second if c.core != judged.core)


@pytest.mark.slow
def test_reuse_on_postgresql_decides_moves_and_withdraws_as_on_sqlite(pg_url, tmp_path):
    """The set-based propagation (INSERT ... SELECT with the decision bound once, the kept source read
    as text) on PostgreSQL: scope, override, a context-bound core and revoke."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.store import dispose_engines, get_engine

    engine = get_engine(pg_url)
    try:
        from sqlalchemy import text
        with engine.connect() as conn:  # the verification cache's index leaves curated verdicts out here too
            ddl = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_verdict_cache'")).scalar_one()
        assert "curated" in ddl and "WHERE" in ddl, ddl
        path = tmp_path / "r.json"
        path.write_text(json.dumps([{"index": i, "context": {"cell_type": c}, "perturbation": {"name": d}} for i, d, c in RECORDS]))
        batch_id = ingest_file(engine, path).batch_id
        t = {"a": _save(engine, batch_id, "1", MODEL_A.format(drug="imatinib", cell="K562"), "a1", after=True),
             "b": _save(engine, batch_id, "1", MODEL_B.format(drug="Imatinib", cell="K562"), "b1", after=True),
             "hct": _save(engine, batch_id, "2", MODEL_A.format(drug="imatinib", cell="HCT116"), "a2", after=True)}
        a, b, hct = (_claims(engine, t[k]) for k in ("a", "b", "hct"))
        for action in ("binds_to", "regulates_expression"):
            cur.judge_claim(engine, a[action].id, "ana", "override", verdict="contradicted", tag="no_relation", rule="one")
        assert _reused(engine, b["binds_to"].id).verdict == _reused(engine, hct["binds_to"].id).verdict == "contradicted"
        assert _reused(engine, b["regulates_expression"].id).verdict == "contradicted"
        assert _reused(engine, hct["regulates_expression"].id) is None  # context-bound: another cell line
        cur.judge_claim(engine, a["binds_to"].id, "ana", "override", verdict="supported", tag="correct", rule="one")
        assert _reused(engine, hct["binds_to"].id).verdict == "supported"
        cur.judge_claim(engine, a["binds_to"].id, "ana", "revoke", rule="one")
        assert _reused(engine, hct["binds_to"].id) is None
        verdict, rows = _curated_verdict(engine, hct["binds_to"].id)
        assert verdict == "unverifiable" and [r.verdict for r in rows] == ["contradicted", "supported", "unverifiable"]
        assert rows[0].evidence[0]["curator"] == "ana" and rows[0].evidence[0]["trace_id"] == t["a"]
        assert "withdrawn" in rows[-1].message
    finally:
        dispose_engines()
