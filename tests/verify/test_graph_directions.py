"""Directions along the graph: a claim follows the perturbation's MoA only when the perturbation is upstream
of it and no other actor causes it (issue 20). The Lenvatinib trace under "Soluble factor addition of VEGF"
is the published case the record verifier used to contradict wrongly."""
from __future__ import annotations

from vcr_core.formalism.parser import parse_text
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.graph import attribute, causes, context_actors, upstream
from vcr_core.verify.record import RecordVerifier, _is_actor

# The record exactly as the published v3 outputs give it (single shape; context description names VEGF).
LENVATINIB = {"index": 7, "context": {"perturbation_type": "soluble factor", "description": "Soluble factor addition of VEGF",
                                      "cell_type": "N/A", "disease_model": "Angiogenic factor/tumors"},
              "perturbation": {"type": "chemical", "smiles": None, "name": "Lenvatinib", "target": "VEGFR2",
                               "moa_type": "inhibitor"}}
EXPLAIN = """set_context(cell_type="endothelial cells", prior_perturbation="VEGF soluble factor addition")
binds_to(id="n1", actor="VEGF", target="VEGFR2")
modulates_molecule_activity(id="n2", target="VEGFR2", direction="up", via="ligand-induced dimerization")
binds_to(id="n3", actor="lenvatinib", target="VEGFR2")
modulates_molecule_activity(id="n4", target="VEGFR2", direction="down", via="ATP-competitive inhibition")
modulates_molecule_activity(id="n5", target="VEGFR2", direction="up")
modulates_molecule_activity(id="n6", target="VEGFR2", direction="up")"""
DAG = """edge("n1", "n2", relation="causal")
edge("n3", "n4", relation="causal")
edge("n1", "n6", relation="causal")
edge("n3", "n6", relation="causal")"""


def parse_explanation(explain: str, dag: str):
    result = parse_text(f"<explain>\n{explain}\n</explain>\n<dag>\n{dag}\n</dag>")
    return result.explanation, [f for f in result.findings if f.severity == "error"]


def setup():
    records, problems = parse_records([LENVATINIB])
    assert not problems
    expl, problems = parse_explanation(EXPLAIN, DAG)
    return records[0], expl


def verdict(record, expl, node_id):
    return RecordVerifier().verify(ClaimContext(node=expl.node(node_id), explanation=expl, record=record))


def test_graph_helpers():
    record, expl = setup()
    assert causes(expl, "n2") == ["n1"] and upstream(expl, "n6") == ["n1", "n3"]
    assert [a.lower() for a in context_actors(record, expl)][:1] == ["vegf"]


def test_vegf_caused_activity_up_is_not_contradicted_by_the_drugs_moa():
    record, expl = setup()
    v = verdict(record, expl, "n2")  # the published false contradiction
    assert v.verdict == "unverifiable"
    assert "'VEGF'" in v.message and "own cause" in v.message


def test_drug_caused_activity_still_follows_the_moa():
    record, expl = setup()
    assert verdict(record, expl, "n4").verdict == "supported"  # lenvatinib -> VEGFR2 down: inhibitor
    flipped = expl.model_copy(deep=True)
    flipped.node("n4").args["direction"] = "up"
    v = verdict(record, flipped, "n4")
    assert v.verdict == "contradicted" and "inhibitor" in v.message


def test_root_claim_while_the_context_applies_another_actor_is_undecided():
    record, expl = setup()
    v = verdict(record, expl, "n5")  # no cause in the graph; VEGF is in the context
    assert v.verdict == "unverifiable" and "VEGF" in v.message


def test_drug_upstream_but_vegf_a_direct_cause_too():
    record, expl = setup()
    att = attribute(expl, record, expl.node("n6"), lambda n: _is_actor(record.perturbation, n))
    assert att.kind == "other" and att.actor == "VEGF" and "upstream too" in att.reason
    assert verdict(record, expl, "n6").verdict == "unverifiable"


def test_mediators_downstream_of_the_drug_keep_the_drug_as_cause():
    record, _ = setup()
    expl, _ = parse_explanation(
        'binds_to(id="n1", actor="lenvatinib", target="VEGFR2")\n'
        'regulates_expression(id="n2", regulator="VEGFR2", gene_list=["EGR1"], direction="down")\n'
        'modulates_pathway_activity(id="n3", pathway="MAPK cascade", direction="down")',
        'edge("n1", "n2", relation="causal")\nedge("n2", "n3", relation="causal")')
    att = attribute(expl, record, expl.node("n3"), lambda n: _is_actor(record.perturbation, n))
    assert att.kind == "perturbation" and att.path == ["n1", "n2", "n3"]
    own = attribute(expl, record, expl.node("n2"), lambda n: _is_actor(record.perturbation, n))
    assert own.kind == "perturbation" and "downstream" in own.reason


def test_no_context_actor_root_claims_are_the_perturbations():
    records, _ = parse_records([{"index": 1, "context": {"cell_type": "HUVEC"},
                                 "perturbation": {"type": "chemical", "name": "Lenvatinib", "target": "VEGFR2", "moa_type": "inhibitor"}}])
    expl, _ = parse_explanation('modulates_molecule_activity(id="n1", target="VEGFR2", direction="up")', "")
    v = RecordVerifier().verify(ClaimContext(node=expl.node("n1"), explanation=expl, record=records[0]))
    assert v.verdict == "contradicted"  # no one else acts: a flipped direction is still caught


def test_the_runner_never_copies_a_graph_dependent_verdict_from_another_trace(engine, tmp_path):
    """The same claim (same hash: same record, same arguments) caused by VEGF in one trace and by the drug in
    another gets its own record verdict in each: record and process verdicts are graph_scoped."""
    import json

    from sqlmodel import Session, select

    from vcr_core.files.ingest import ingest_file
    from vcr_core.store import Claim, Verdict
    from vcr_core.verify import verify_traces
    from vcr_core.verify.testing import add_trace

    path = tmp_path / "lenvatinib.json"
    path.write_text(json.dumps([{**LENVATINIB, "index": 1}]))
    res = ingest_file(engine, path)
    assert res.ok
    by_vegf = ('<explain>\nbinds_to(id="n1", actor="VEGF", target="VEGFR2")\n'
               'modulates_molecule_activity(id="n2", target="VEGFR2", direction="up")\n'
               'induces_phenotype(id="n3", source="lenvatinib", phenotype="reduced angiogenesis")\n</explain>\n'
               '<dag>\nedge("n1", "n2", relation="causal")\nedge("n2", "n3", relation="causal")\n</dag>')
    by_drug = by_vegf.replace('actor="VEGF"', 'actor="lenvatinib"')
    first = add_trace(engine, res.batch_id, by_vegf, run_name="a")
    second = add_trace(engine, res.batch_id, by_drug, run_name="b")
    verify_traces(engine, [first], ["record"])
    verify_traces(engine, [second], ["record"])
    with Session(engine) as s:
        rows = {c.trace_id: v for v, c in s.exec(select(Verdict, Claim).where(Verdict.claim_id == Claim.id,
                                                                             Verdict.verifier == "record",
                                                                             Claim.node_id == "n2")).all()}
    assert rows[first].verdict == "unverifiable" and "VEGF" in rows[first].message
    assert rows[second].verdict == "contradicted" and "same claim verified" not in (rows[second].message or "")


def test_a_context_that_names_the_perturbation_itself_is_no_other_actor():
    records, problems = parse_records([{"index": 9, "context": {"perturbation_type": "genetic", "description": "TP53 knockout",
                                                                "cell_line": "HCT116"},
                                        "perturbation": {"type": "CRISPR knockout", "name": "TP53 knockout", "gene_symbol": "TP53"}}])
    assert not problems
    record = records[0]
    expl, _ = parse_explanation('modulates_molecule_activity(id="n1", target="TP53", direction="down")', "")
    att = attribute(expl, record, expl.node("n1"), lambda n: _is_actor(record.perturbation, n))
    assert att.kind == "perturbation"
    v = RecordVerifier().verify(ClaimContext(node=expl.node("n1"), explanation=expl, record=record))
    assert v.verdict == "supported"  # the knockout's own direction, not "another actor"
