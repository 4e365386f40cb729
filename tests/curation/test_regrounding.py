"""Grounding stored with each claim (issue 20): every save path stores it, a curator re-grounds an entity
(a judgment: logged, the claim's grounding and core updated, reuse refreshed, verdicts recomputed), a bad
identifier is refused without a write, and verifiers read the stored grounding instead of resolving again."""
from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from vcr_core import curation as cur
from vcr_core.curation import reuse
from vcr_core.store import Claim, ClaimReuseRow, Curation, TraceVerdict, Verdict
from vcr_core.verify import verify_traces
from vcr_core.verify.testing import GeneEcho, add_trace

TWO = '''<explain>
set_context(cell_type="K562")
binds_to(id="n1", actor="imatinib", target="ABL1")
modulates_molecule_activity(id="n2", target="ABL1", direction="down", via="n1")
</explain>
<dag>
edge("n1", "n2", relation="causal")
</dag>'''


@pytest.fixture
def stored(engine, tmp_path):
    """One K562/imatinib record with a trace (two claims on ABL1), grounded and verified by GeneEcho."""
    from vcr_core.files.ingest import ingest_file

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": "ABL1"}}]))
    batch_id = ingest_file(engine, path).batch_id
    trace_id = add_trace(engine, batch_id, TWO)
    reuse.identify_and_reuse(engine)
    verify_traces(engine, [trace_id], ["structural", "kg"], instances={"kg": GeneEcho()})
    with Session(engine) as s:
        claims = {c.node_id: c for c in s.exec(select(Claim).where(Claim.trace_id == trace_id)).all()}
    return {"batch_id": batch_id, "trace_id": trace_id, "claims": claims}


def _echo(monkeypatch):
    """Make the runner build GeneEcho for "kg" (re-grounding recomputes through the runner's own factory)."""
    from vcr_core.verify import runner

    monkeypatch.setattr(runner, "build_verifiers", lambda engine, names: {"kg": GeneEcho()} if "kg" in names else {})


def _rows(engine, model, **where):
    with Session(engine) as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.exec(q).all()


def test_saved_claims_carry_their_grounding_and_review_lines_read_it(stored):
    n1 = stored["claims"]["n1"]
    lines = {r["argument"]: r["line"] for r in cur.grounding_lines(n1)}
    assert lines["target"].startswith("target = ABL1 → HGNC:76 (ABL1; gene resolver")
    assert lines["actor"].startswith("actor = imatinib → DrugBank:DB00619")
    ent = n1.grounding["args"]["target"][0]
    assert {k: ent[k] for k in ("name", "namespace", "identifier")} == {"name": "ABL1", "namespace": "HGNC", "identifier": "HGNC:76"}
    assert ent["method"].startswith("gene resolver")


def test_regrounding_is_a_logged_judgment_that_moves_core_grounding_and_verdicts(engine, stored, monkeypatch):
    _echo(monkeypatch)
    n1, n2 = stored["claims"]["n1"], stored["claims"]["n2"]
    before = _rows(engine, Verdict, claim_id=n1.id, verifier="kg")
    assert [v.verdict for v in before] == ["supported"]
    assert not any(e.get("curator") for v in before for e in
                   next((x["entities"] for x in v.evidence if x.get("kind") == "stored_grounding"), []))
    # ana's judgment on n2 (same target) decides nothing of n1 (another primitive) - but cores matter below
    row = cur.reground_claim(engine, n1.id, "Ana", "target", "ABL1", "hgnc:6307", reason="the paper means VEGFR2")
    assert (row.target, row.judgment, row.curator, row.note) == ("grounding", "reground", "ana", "the paper means VEGFR2")
    snap = row.claim_snapshot
    assert snap["old"]["identifier"] == "HGNC:76" and snap["new"]["identifier"] == "HGNC:6307"
    assert snap["new"]["canonical"] == "KDR" and snap["old_core"] == n1.core and snap["core"] != n1.core
    claim = _rows(engine, Claim, id=n1.id)[0]
    target = claim.grounding["args"]["target"][0]
    assert (target["identifier"], target["curator"], target["curation_id"]) == ("HGNC:6307", "ana", row.id)
    assert claim.core == snap["core"] and claim.grounding["args"]["actor"] == n1.grounding["args"]["actor"]
    assert _rows(engine, Claim, id=n2.id)[0].grounding == n2.grounding  # only the claim re-grounded
    # verdicts recomputed with the curator's grounding in force: the verifier read KDR, and says whose it was
    kg = _rows(engine, Verdict, claim_id=n1.id, verifier="kg")
    assert [v.verdict for v in kg] == ["supported", "contradicted"] and "KDR" in kg[-1].message
    used = next(x for x in kg[-1].evidence if x["kind"] == "stored_grounding")["entities"]
    assert {"argument": "target", "name": "ABL1", "identifier": "HGNC:6307", "curator": "ana"}.items() <= used[0].items()
    state = next(s for s in cur.claim_states(engine, stored["trace_id"]) if s.claim.id == n1.id)
    assert state.machine == "contradicted" and [v.verdict for v in state.verdicts if v.verifier == "kg"] == ["contradicted"]
    assert [v.verdict for v in state.superseded] == ["supported"]
    tvs = _rows(engine, TraceVerdict, trace_id=stored["trace_id"])
    assert tvs[-1].verdict == "fail"  # the trace's filter verdict follows the new verdict
    assert [h.judgment for h in cur.history(engine, stored["trace_id"])] == ["reground"]
    assert cur.trace_state(engine, stored["trace_id"])["curators"] == ["ana"]
    kept = cur.state_snapshot(engine)
    cur.rebuild_state(engine)  # the kept state is what the log says, re-groundings included
    assert cur.state_snapshot(engine) == kept
    # a second run of the verifiers keeps the recomputed verdict (nothing verified twice, nothing copied back)
    verify_traces(engine, [stored["trace_id"]], ["kg"], instances={"kg": GeneEcho()})
    assert [v.verdict for v in _rows(engine, Verdict, claim_id=n1.id, verifier="kg")] == ["supported", "contradicted"]


def test_bad_identifiers_are_refused_and_nothing_is_written(engine, stored, monkeypatch):
    _echo(monkeypatch)
    n1 = stored["claims"]["n1"]
    n_verdicts = len(_rows(engine, Verdict))
    for ident, says in [("HGNC:999999", "not an approved gene"), ("FOO:12", "unknown namespace"), ("KDR", "not namespace:identifier"),
                        ("GO:12", "not a GO identifier"), ("CHEBI:0", "not in ChEBI")]:
        with pytest.raises(cur.CurationError, match=says):
            cur.reground_claim(engine, n1.id, "ana", "target", "ABL1", ident)
    with pytest.raises(cur.CurationError, match="no entity argument"):
        cur.reground_claim(engine, n1.id, "ana", "mechanism", "ABL1", "HGNC:6307")
    with pytest.raises(cur.CurationError, match="does not name"):
        cur.reground_claim(engine, n1.id, "ana", "target", "KDR", "HGNC:6307")
    assert _rows(engine, Curation) == [] and len(_rows(engine, Verdict)) == n_verdicts
    assert _rows(engine, Claim, id=n1.id)[0].grounding == n1.grounding


def test_a_regrounding_made_meanwhile_refuses_the_later_one(engine, stored, monkeypatch):
    """Two curators re-grounding one claim at once: the one whose transaction comes second is refused."""
    from vcr_core.verify import runner

    n1 = stored["claims"]["n1"]
    real = runner.recompute_claim

    def meanwhile(*a, **kw):  # ben's re-grounding lands while ana's verdicts are being computed
        out = real(*a, **kw)
        monkeypatch.setattr(runner, "recompute_claim", real)
        cur.reground_claim(engine, n1.id, "ben", "target", "ABL1", "HGNC:6871")
        return out

    _echo(monkeypatch)
    monkeypatch.setattr(runner, "recompute_claim", meanwhile)
    with pytest.raises(cur.CurationError, match="re-grounded this claim meanwhile"):
        cur.reground_claim(engine, n1.id, "ana", "target", "ABL1", "HGNC:6307")
    assert [r.curator for r in _rows(engine, Curation)] == ["ben"]
    assert _rows(engine, Claim, id=n1.id)[0].grounding["args"]["target"][0]["identifier"] == "HGNC:6871"


def test_a_failing_verifier_stores_nothing_of_the_regrounding(engine, stored, monkeypatch):
    from vcr_core.verify import runner

    class Broken(GeneEcho):
        def verify(self, ctx):
            raise RuntimeError("the graph went away")

    monkeypatch.setattr(runner, "build_verifiers", lambda engine, names: {"kg": Broken()})
    n1 = stored["claims"]["n1"]
    with pytest.raises(RuntimeError):
        cur.reground_claim(engine, n1.id, "ana", "target", "ABL1", "HGNC:6307")
    assert _rows(engine, Curation) == [] and _rows(engine, Claim, id=n1.id)[0].core == n1.core


def test_reuse_follows_the_new_core(engine, stored, monkeypatch):
    """A judgment on a claim whose core matches the re-grounded claim's new core now decides it."""
    _echo(monkeypatch)
    n1 = stored["claims"]["n1"]
    kdr = add_trace(engine, stored["batch_id"], TWO.replace('target="ABL1"', 'target="KDR"'), run_name="kdr")
    reuse.identify_and_reuse(engine)
    kdr_n1 = next(c for c in _rows(engine, Claim, trace_id=kdr) if c.node_id == "n1")
    cur.judge_claim(engine, kdr_n1.id, "ben", "override", verdict="contradicted", tag="wrong_relation", rule="one")
    assert not _rows(engine, ClaimReuseRow, claim_id=n1.id)
    cur.reground_claim(engine, n1.id, "ana", "target", "ABL1", "HGNC:6307", rule="one")
    assert _rows(engine, Claim, id=n1.id)[0].core == kdr_n1.core
    assert [(r.status, r.verdict) for r in _rows(engine, ClaimReuseRow, claim_id=n1.id)] == [("decided", "contradicted")]


def test_entity_verifier_accepts_a_curators_chemical_grounding(engine, stored):
    """The entity verifier (through the NER vocabularies' resolver) reads a curator's ChEBI grounding."""
    n1 = stored["claims"]["n1"]
    cur.reground_claim(engine, n1.id, "ana", "actor", "imatinib", "CHEBI:45783", verifiers=["entity"])
    ent = _rows(engine, Verdict, claim_id=n1.id, verifier="entity")[-1]
    rows = {e["argument"]: e for e in ent.evidence if e.get("kind") == "entity_grounding"}
    assert rows["actor"]["grounding"]["identifier"] in ("CHEBI:45783", "45783") and rows["actor"]["status"] == "ok"
    used = next(e for e in ent.evidence if e.get("kind") == "stored_grounding")["entities"]
    assert any(u["name"] == "imatinib" and u.get("curator") == "ana" for u in used)


def test_generation_stores_each_claims_grounding_at_save(engine, batch, server):
    from vcr_core.generation import create_run
    from vcr_core.jobs import Worker
    from vcr_core.store import Trace

    run_id = create_run(engine, batch_id=batch, record_ids=None, tools=[], model_type=None, model="scripted",
                        mode="explain-only", options={"api_base": server.base_url, "concurrency": 2}, created_by="tester")
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()  # the save only, not the verification it queues
    with Session(engine) as s:
        claims = s.exec(select(Claim).join(Trace, Trace.id == Claim.trace_id).where(Trace.run_id == run_id)).all()
    assert claims and all(c.core and c.grounding and c.grounding.get("args") for c in claims)
    entity = next(e for c in claims for es in c.grounding["args"].values() for e in es)
    assert {"name", "namespace", "identifier", "method"} <= entity.keys()


def test_an_archive_brings_the_regrounding_back(engine, stored, monkeypatch, tmp_path, db_url):
    from vcr_core.files import export_traces
    from vcr_core.files.archive import import_archive, iter_archive
    from vcr_core.store import get_engine

    _echo(monkeypatch)
    n1 = stored["claims"]["n1"]
    cur.reground_claim(engine, n1.id, "ana", "target", "ABL1", "HGNC:6307")
    data = export_traces(engine, [stored["trace_id"]], "jsonl")
    other = get_engine(f"sqlite:///{tmp_path / 'other.db'}")
    import_archive(other, iter_archive(data.decode().splitlines()))
    claim = next(c for c in _rows(other, Claim) if c.node_id == "n1")
    target = claim.grounding["args"]["target"][0]
    assert (target["identifier"], target["curator"]) == ("HGNC:6307", "ana")
    assert claim.core == _rows(engine, Claim, id=n1.id)[0].core


def test_shared_resolvers_answer_from_the_stored_grounding_only_while_a_claim_is_verified():
    from vcr_core.kernel.grounding import stored_grounding
    from vcr_core.knowledge.genes import resolve
    from vcr_core.preprocess import ground
    from vcr_core.tools.kg import api

    args = {"target": [{"name": "ABL1", "namespace": "HGNC", "identifier": "HGNC:6307", "canonical": "KDR", "method": "curator",
                        "curator": "ana"}],
            "actor": [{"name": "imatinib", "namespace": "CHEBI", "identifier": "CHEBI:45783", "canonical": "imatinib",
                       "method": "curator", "curator": "ana"}],
            "gene_list": [{"name": "MYC", "namespace": "HGNC", "identifier": "HGNC:7553", "canonical": "MYC", "method": "gene resolver: symbol"}]}
    assert resolve("ABL1").symbols == {"ABL1"}
    with stored_grounding(args) as use:
        assert resolve("ABL1").symbols == {"KDR"} and "curator ana's grounding" in resolve("ABL1").via
        assert resolve("MYC").identifier == "HGNC:7553" and resolve("TP53").symbols == {"TP53"}  # not stored: resolved
        assert resolve("imatinib") is None  # the curator grounded it to a chemical: no gene reading
        hit = ground("imatinib", "Chemical")
        assert (hit.namespace, hit.identifier) == ("CHEBI", "CHEBI:45783")
        assert "KDR" in {m.name for m in api.lookup("ABL1", None, 3)}
    assert {e["name"] for e in use.used} == {"ABL1", "MYC", "imatinib"}
    # an automatic grounding is the resolver's own answer: read back, it is the answer resolving gives
    from vcr_core.curation.core import ground_entity
    for name in ("VEGFR2", "ERK1/2"):
        fresh = resolve(name)
        with stored_grounding({"target": [ground_entity(name, ("gene",))]}) as use:
            assert resolve(name) == fresh and len(use.used) == 1
    assert resolve("ABL1").symbols == {"ABL1"} and ground("imatinib", "Chemical").namespace != "CHEBI"


def test_import_of_outputs_stores_each_claims_grounding(engine, tmp_path):
    """`vcr import-traces` (the original pipeline's outputs) grounds every claim at save, like generation."""
    from vcr_core.files.importers import import_traces

    pert = {"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": ["ABL1"]}}
    path = tmp_path / "structure-explain.json"
    path.write_text(json.dumps([{"index": 1, "input_perturbation": pert, "answer": "a", "question": "q",
                                 "explain": 'set_context(cell_type="K562")\nbinds_to(id="n1", actor="imatinib", target="VEGFR2")\n'
                                            'induces_phenotype(id="n2", source="imatinib", phenotype="apoptosis")',
                                 "dag": 'edge("n1", "n2", relation="causal")', "raw_response": "r", "input_report_text": "",
                                 "additional_info": {}}]))
    assert import_traces(engine, path)["ok"] == 1
    claim = next(c for c in _rows(engine, Claim) if c.node_id == "n1")
    target = claim.grounding["args"]["target"][0]
    assert (target["name"], target["namespace"], target["identifier"]) == ("VEGFR2", "HGNC", "HGNC:6307")
    assert target["method"] == "gene resolver: famplex map" and claim.core
    assert cur.grounding_lines(claim)[1]["line"] == "target = VEGFR2 → HGNC:6307 (KDR; gene resolver: famplex map)"
