"""Assembly from knowledge: a small hand-made graph and GO source, every claim with a source,
inferences labelled, honest gaps, the default without a key, and runs through the worker."""
from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pytest

from vcr_core.agents.assembler import (
    DISCLAIMER,
    INFERRED,
    Knowledge,
    assemble,
    claims_with_source,
    evidence_lines,
    inferred_claims,
    set_knowledge,
)
from vcr_core.formalism import MEASURABLE_OUTPUTS, check_explanation
from vcr_core.records.model import parse_records
from vcr_core.tools.kg.graph import CompactGraph
from vcr_core.tools.kg.starter import RELATIONS, TYPES

Ann = namedtuple("Ann", "go_id term ontology evidence")


class FakeOrgDb:
    """The orgdb API (go_annotations) over a dict; the real one reads org.Hs.eg.db."""

    def __init__(self, table):
        self.table = table

    def go_annotations(self, symbol):
        return [Ann(*a) for a in self.table.get(symbol, [])]


GO = {
    "KDR": [("GO:0008284", "positive regulation of cell population proliferation", "BP", "IDA"),
            ("GO:0030335", "positive regulation of cell migration", "BP", "IMP"),
            ("GO:0043524", "negative regulation of neuron apoptotic process", "BP", "IEA"),  # not a general process
            ("GO:0005886", "plasma membrane", "CC", "IDA")],
    "FLT1": [("GO:0008284", "positive regulation of cell population proliferation", "BP", "TAS"),
             ("GO:0030336", "negative regulation of cell migration", "BP", "IEA")],  # electronic: never a premise
    "TP53": [("GO:0008285", "negative regulation of cell population proliferation", "BP", "IDA"),
             ("GO:0043065", "positive regulation of apoptotic process", "BP", "IDA"),
             ("GO:0043066", "negative regulation of apoptotic process", "BP", "IMP")],  # conflicting: not used
    "MAP2K1": [("GO:0008285", "negative regulation of cell population proliferation", "BP", "IDA")],
    "CDK4": [("GO:0008284", "positive regulation of cell population proliferation", "BP", "IMP")],
    "CDK6": [("GO:0008285", "negative regulation of cell population proliferation", "BP", "IDA"),
             ("GO:0045786", "negative regulation of cell cycle", "BP", "IDA"),
             ("GO:2000773", "negative regulation of cellular senescence", "BP", "IDA")],
    "JAK2": [("GO:0070665", "positive regulation of leukocyte proliferation", "BP", "IMP")],
}


def small_graph() -> CompactGraph:
    t = {n: i for i, n in enumerate(TYPES)}
    r = {n: i for i, n in enumerate(RELATIONS)}
    nodes = [("nintedanib", "drug", "DB09079", {"synonyms": [], "chebi": "CHEBI:85164",
                                                "roles": ["antineoplastic agent", "angiogenesis inhibitor", "tyrosine kinase inhibitor"]}),
             ("trametinib", "drug", "DB08911", {"chebi": "CHEBI:75998", "roles": ["antineoplastic agent"]}),
             ("KDR", "gene/protein", "HGNC:6307", {"alias": ["VEGFR2"]}),
             ("FLT1", "gene/protein", "HGNC:3763", {}),
             ("TP53", "gene/protein", "HGNC:11998", {}),
             ("MAP2K1", "gene/protein", "HGNC:6840", {}),
             ("breast cancer", "disease", "MONDO:0007254", {"synonyms": []}),
             ("Breast carcinoma", "effect/phenotype", "HP:0003002", {"synonyms": []}),
             ("Osteosarcoma", "effect/phenotype", "HP:0002669", {"synonyms": []})]
    src, dst, rel = [], [], []
    for a, b, rr in ((4, 7, "associated with"), (4, 8, "associated with"), (6, 7, "phenotype present")):
        src.append(a), dst.append(b), rel.append(r[rr])
    return CompactGraph.from_edges([n[0] for n in nodes], np.array([t[n[1]] for n in nodes]), TYPES, np.array(src),
                                   np.array(dst), np.array(rel), RELATIONS, sources=["test"] * len(nodes),
                                   ids=[n[2] for n in nodes], details=[n[3] for n in nodes], origin="test graph",
                                   symmetric=True)


@pytest.fixture
def kb():
    g = small_graph()
    k = Knowledge(graph=g, orgdb=FakeOrgDb(GO))
    set_knowledge(k)
    yield k
    set_knowledge(None)


def rec(obj):
    recs, problems = parse_records([obj])
    assert not problems
    return recs[0]


NINTEDANIB = {"index": 1, "context": {"cell_type": "HUVEC", "disease_model": "tumour angiogenesis"},
              "perturbation": {"name": "nintedanib", "target": ["KDR", "FLT1"], "moa_type": "kinase inhibitor"}}


def test_drug_with_targets_moa_go_and_roles(kb):
    a = assemble(rec(NINTEDANIB), kb)
    expl = a.explanation
    assert not [f for f in a.findings if f.severity == "error"], a.findings
    assert a.incomplete is None
    by_action = {}
    for n in expl.claims:
        by_action.setdefault(n.action, []).append(n)
    assert {n.args["target"] for n in by_action["binds_to"]} == {"KDR", "FLT1"}
    assert all(n.args["direction"] == "down" for n in by_action["modulates_molecule_activity"])
    phen = {n.args["phenotype"]: n for n in by_action["induces_phenotype"]}
    # GO: KDR and FLT1 positively regulate proliferation -> reduced, inferred, with both premises as evidence
    prolif = phen["reduced cell population proliferation"]
    assert prolif.confidence == INFERRED and "inferred" in prolif.via
    prem = [e for e in a.evidence[prolif.id] if e["source"] == "inference"]
    assert prem and all(len(e["premises"]) == 2 for e in prem)
    assert "reduced cell migration" in phen
    assert not any("neuron" in p for p in phen)  # a cell-type-specific annotation of another cell type
    # ChEBI: 'angiogenesis inhibitor' is a known role; 'antineoplastic agent' needs cancer cells, and HUVEC in a
    # "tumour angiogenesis" model are endothelial cells, not cancer cells
    assert phen["reduced angiogenesis"].confidence == "known"
    assert "reduced cancer cell growth" not in phen
    assert "the cells are not cancer cells" in a.report
    assert claims_with_source(expl, a.evidence) == len(expl.claims) >= 4
    assert 0 < inferred_claims(expl) < len(expl.claims)
    assert any(n.action == "participates_in" and n.args["ontology_id"] == "GO:0008284" for n in expl.claims)
    assert DISCLAIMER in a.report and DISCLAIMER in expl.answer
    for section in ("## How this explanation was made", "## Sources used", "## Inferences", "## Gaps"):
        assert section in a.report
    assert evidence_lines(a.evidence["n1"])[0].startswith("record:")


def test_without_gene_ontology_says_so_and_uses_roles(kb):
    k = Knowledge(graph=kb.graph, orgdb=None, orgdb_reason="Gene Ontology annotations are not installed (test)")
    a = assemble(rec(NINTEDANIB), k)
    assert "not installed (test)" in a.report
    assert not any(n.action == "participates_in" for n in a.explanation.claims)
    assert not [f for f in a.findings if f.severity == "error"]  # the ChEBI roles still close every path
    assert claims_with_source(a.explanation, a.evidence) == len(a.explanation.claims)


def test_unknown_record_gets_no_invented_claims(kb):
    a = assemble(rec({"index": 2, "context": {"cell_type": "K562"}, "perturbation": {"name": "zorblatinib-X"}}), kb)
    assert a.explanation.claims == []
    assert a.incomplete and "nothing is known" in a.incomplete
    assert any(f.severity == "error" for f in a.findings)  # stored as incomplete, never as valid
    assert "not a drug in the loaded graph" in a.report


def test_target_without_direction_or_outcome_is_incomplete_not_invented(kb):
    a = assemble(rec({"index": 3, "context": {"cell_type": "K562"},
                      "perturbation": {"name": "somedrug", "target": ["FLT1"]}}), kb)
    claims = a.explanation.claims
    assert [n.action for n in claims] == ["binds_to"]
    assert a.incomplete and any(f.code == "path_not_measurable" for f in a.findings)
    assert "raises or lowers" in a.report


def test_knockout_go_inference_conflicts_and_context_fitting_phenotypes(kb):
    a = assemble(rec({"index": 4, "context": {"cell_type": "MCF7", "disease_model": "breast cancer"},
                      "perturbation": {"type": "CRISPR knockout", "name": "TP53 knockout", "target": "TP53"}}), kb)
    claims = a.explanation.claims
    assert claims[0].action == "loss_of_function" and claims[0].args["protein"] == "TP53"
    phen = [n.args["phenotype"] for n in claims if n.action == "induces_phenotype"]
    assert phen == ["increased cell population proliferation"]  # apoptosis: both directions annotated, not inferred
    assert "both positive and negative regulation of apoptotic process" in a.report
    # HPO gene - phenotype correlations are organism-level (Breast carcinoma for TP53): never a cell outcome here
    assert not [n for n in claims if n.action == "correlates_with"]
    assert not [f for f in a.findings if f.severity == "error"]


def test_inference_against_the_drugs_role_is_dropped(kb):
    a = assemble(rec({"index": 5, "context": {"cell_type": "A549", "disease_model": "lung adenocarcinoma"},
                      "perturbation": {"name": "Trametinib (DMSO_TF solvate)", "target": ["MAP2K1"], "moa_type": "MEK inhibitor"}}), kb)
    phen = [n.args["phenotype"] for n in a.explanation.claims if n.action == "induces_phenotype"]
    assert "increased cell population proliferation" not in phen
    assert "reduced cancer cell growth" in phen
    assert "contradicts" in a.report


def test_structure_every_path_ends_measurable(kb):
    a = assemble(rec(NINTEDANIB), kb)
    expl = a.explanation
    sinks = {n.id for n in expl.nodes} - {e.source for e in expl.edges}
    assert all(expl.node(s).action in MEASURABLE_OUTPUTS for s in sinks)
    assert not [f for f in check_explanation(expl) if f.severity == "error"]


def test_knowledge_is_the_default_without_a_key(monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.llm import missing_key_message, resolve_model
    c = resolve_model()
    assert c.is_knowledge and not c.is_local and missing_key_message(c) is None
    assert "no model" in c.label
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fake-000000")
    get_settings.cache_clear()
    assert resolve_model().provider == "anthropic"  # with a key, the LLM agents stay the default
    assert resolve_model("knowledge").is_knowledge


def test_run_through_worker_stores_evidence_and_counts(engine, tmp_path, kb):
    from sqlmodel import select

    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs import Worker
    from vcr_core.store import Claim, Trace, session_scope

    path = tmp_path / "r.json"
    path.write_text(json.dumps([NINTEDANIB, {"index": 9, "context": {"cell_type": "K562"}, "perturbation": {"name": "zorblatinib-X"}}]))
    batch = ingest_file(engine, path, name="b").batch_id
    run_id = create_run(engine, batch_id=batch, tools=[], model_type=None, mode="explain-only", options={})
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    p = run_progress(engine, run_id)
    assert p["status"] == "done" and p["provider"] == "knowledge" and (p["n_ok"], p["n_invalid"]) == (1, 1)
    with session_scope(engine) as s:
        ts = {t.record_id: t for t in s.exec(select(Trace).where(Trace.run_id == run_id)).all()}
        n_claims = len(s.exec(select(Claim)).all())
    good, bad = (ts[rid] for rid in sorted(ts))  # by record: traces are stored concurrently
    assert good.status == "ok" and good.tool_context["knowledge-assembly"]["evidence"]["claims"]
    assert good.report.startswith("## How this explanation was made") and good.prompt_tokens == 0
    assert bad.status == "invalid" and bad.errors and bad.errors[0].startswith("incomplete:")
    assert n_claims == good.n_claims >= 4


def test_targets_pointing_both_ways_on_proliferation_give_no_proliferation_inference(kb):
    a = assemble(rec({"index": 6, "context": {"cell_type": "MCF7", "disease_model": "breast carcinoma"},
                      "perturbation": {"name": "abemaciclib", "target": ["CDK4", "CDK6"], "moa_type": "CDK4/6 inhibitor"}}), kb)
    phen = [n.args["phenotype"] for n in a.explanation.claims if n.action == "induces_phenotype"]
    assert phen == ["increased cellular senescence"]  # proliferation and cell cycle disagree: dropped
    assert "point both ways on proliferation" in a.report


def test_cell_type_processes_only_in_their_context(kb):
    pert = {"name": "fedratinib", "target": ["JAK2"], "moa_type": "JAK2 inhibitor"}
    hel = assemble(rec({"index": 7, "context": {"cell_type": "HEL", "disease_model": "erythroleukemia"}, "perturbation": pert}), kb)
    a549 = assemble(rec({"index": 8, "context": {"cell_type": "A549", "disease_model": "lung adenocarcinoma"}, "perturbation": pert}), kb)
    assert [n.args["phenotype"] for n in hel.explanation.claims if n.action == "induces_phenotype"] == ["reduced leukocyte proliferation"]
    assert not [n for n in a549.explanation.claims if n.action == "induces_phenotype"]
    assert a549.incomplete  # nothing closes JAK2's path in a lung cell line: said, not invented
