"""The assembler explains any perturbation the embedded knowledge grounds: genetic perturbations read from
name, type and context; soluble factors through their receptors; a target's pathway between it and an
outcome; outcomes that hold in the context; and every claim says which source it was assembled from."""
from __future__ import annotations

import pytest

from vcr_core.agents.assembler import INFERRED, Knowledge, assemble, assembled_from
from vcr_core.formalism import MEASURABLE_OUTPUTS
from vcr_core.knowledge.testing import TableOrgDb
from vcr_core.records.model import parse_records

ERK = ("GO:0070371", "ERK1 and ERK2 cascade", "BP", "IDA")
PROLIF_UP = ("GO:0008284", "positive regulation of cell population proliferation", "BP", "IMP")
TABLE = {
    "BRAF": [("GO:0070374", "positive regulation of ERK1 and ERK2 cascade", "BP", "IDA")],
    **{f"MEMBER{i}": [ERK, PROLIF_UP] for i in range(5)},
    "TSC2": [("GO:0032007", "negative regulation of TOR signaling", "BP", "IMP"),
             ("GO:0016239", "positive regulation of macroautophagy", "BP", "IDA")],
    "IFNG": [("GO:0005133", "type II interferon receptor binding", "MF", "IEA"),
             ("GO:0050729", "positive regulation of inflammatory response", "BP", "IDA")],
    "IFNGR1": [("GO:0004906", "type II interferon receptor activity", "MF", "IDA")],
    "IFNGR2": [("GO:0004906", "type II interferon receptor activity", "MF", "IDA")],
    "KRAS": [PROLIF_UP],
    "MYC": [PROLIF_UP],
}


@pytest.fixture
def kb():
    return Knowledge(graph=None, graph_reason="no graph in this test", orgdb=TableOrgDb(TABLE))


def rec(obj):
    recs, problems = parse_records([obj])
    assert not problems
    return recs[0]


def _claims(a, action):
    return [n for n in a.explanation.claims if n.action == action]


def _every_path_measurable(a):
    expl = a.explanation
    sinks = {n.id for n in expl.claims} - {e.source for e in expl.edges}
    return bool(sinks) and all(expl.node(s).action in MEASURABLE_OUTPUTS for s in sinks)


@pytest.mark.parametrize("pert, context, gene, action", [
    ({"type": "genetic", "name": "TSC2 KO"}, {"cell_type": "HEK293", "description": "CRISPR knockout of TSC2"}, "TSC2", "loss_of_function"),
    ({"name": "TSC2 KO"}, {"cell_type": "HEK293"}, "TSC2", "loss_of_function"),
    ({"type": "genetic", "name": "TSC2"}, {"cell_type": "HEK293", "description": "CRISPR knockout of TSC2"}, "TSC2", "loss_of_function"),
    ({"type": "siRNA", "name": "siRNA against KRAS"}, {"cell_type": "A549"}, "KRAS", "loss_of_function"),
    ({"name": "KRAS shRNA"}, {"cell_type": "A549"}, "KRAS", "loss_of_function"),
    ({"type": "CRISPRi", "name": "KRAS CRISPRi"}, {"cell_type": "A549"}, "KRAS", "loss_of_function"),
    ({"type": "overexpression", "name": "MYC overexpression"}, {"cell_type": "RPE-1"}, "MYC", "gain_of_function"),
    ({"type": "genetic", "name": "MYC OE"}, {"cell_type": "RPE-1"}, "MYC", "gain_of_function"),
])
def test_genetic_perturbations_read_from_name_type_and_context(kb, pert, context, gene, action):
    a = assemble(rec({"index": 1, "context": context, "perturbation": pert}), kb)
    first = a.explanation.claims[0]
    assert (first.action, first.args["protein"]) == (action, gene), a.report
    assert first.args["variant"] != "genetic"  # the method that said so, not the record's generic type
    assert "does not say whether" not in a.report
    assert a.evidence[first.id][0]["source"] == "record"


def test_genetic_perturbation_without_a_direction_says_so(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "HEK293"}, "perturbation": {"type": "genetic", "name": "TSC2 edit"}}), kb)
    assert a.explanation.claims == []
    assert "does not say whether TSC2 is lost or gained" in a.report


def test_knockout_reaches_an_outcome_through_the_pathway(kb):
    """TSC2 loss: TOR signalling up (TSC2 negatively regulates it) when the pathway's members agree on an
    outcome; here they do not (no member annotations), so the step is not drawn and the report says so,
    and the direct annotation (macroautophagy is not a cell-level process on the list) adds nothing."""
    a = assemble(rec({"index": 1, "context": {"cell_type": "HEK293", "description": "CRISPR knockout of TSC2"},
                      "perturbation": {"type": "genetic", "name": "TSC2 KO"}}), kb)
    assert not _claims(a, "modulates_pathway_activity")
    assert "the step is not drawn" in a.report
    assert a.incomplete and "TSC2" in a.incomplete  # said, not invented


def test_drug_target_pathway_outcome_chain(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "A375", "disease_model": "melanoma"},
                      "perturbation": {"name": "vemurafenib", "target": ["BRAF"], "moa_type": "BRAF inhibitor"}}), kb)
    path = _claims(a, "modulates_pathway_activity")
    assert [(n.args["pathway"], n.args["direction"], n.confidence) for n in path] == [("ERK1 and ERK2 cascade", "down", INFERRED)]
    phen = _claims(a, "induces_phenotype")
    assert [n.args["phenotype"] for n in phen] == ["reduced cell population proliferation"]
    edges = {(e.source, e.target, e.relation) for e in a.explanation.edges}
    act = _claims(a, "modulates_molecule_activity")[0]
    assert (act.id, path[0].id, "causal") in edges and (path[0].id, phen[0].id, "causal") in edges
    vote = [e for e in a.evidence[phen[0].id] if e.get("rule") == "pathway members' GO regulation (vote)"]
    assert vote and "5 member gene(s)" in vote[0]["statement"]
    assert _every_path_measurable(a) and a.incomplete is None


def test_soluble_factor_acts_through_its_receptors(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "A549", "description": "IFN gamma stimulation"},
                      "perturbation": {"type": "cytokine", "name": "IFN gamma"}}), kb)
    binds = _claims(a, "binds_to")
    assert {(n.args["actor"], n.args["target"]) for n in binds} == {("IFNG", "IFNGR1"), ("IFNG", "IFNGR2")}
    assert all(n.confidence == INFERRED for n in binds)  # the ligand's binding annotation is electronic (IEA)
    acts = _claims(a, "modulates_molecule_activity")
    assert {(n.args["target"], n.args["direction"]) for n in acts} == {("IFNGR1", "up"), ("IFNGR2", "up")}
    assert all(n.confidence == INFERRED for n in acts)
    assert [n.args["phenotype"] for n in _claims(a, "induces_phenotype")] == ["increased inflammatory response"]
    assert _every_path_measurable(a) and a.incomplete is None


def test_cancer_outcomes_only_for_cancer_cells(kb):
    from vcr_core.agents.assembler import _is_cancer_context
    huvec = rec({"index": 1, "context": {"cell_type": "HUVEC", "disease_model": "tumour angiogenesis"}, "perturbation": {"name": "x"}})
    a549 = rec({"index": 2, "context": {"cell_type": "A549", "disease_model": "lung adenocarcinoma"}, "perturbation": {"name": "x"}})
    jurkat = rec({"index": 3, "context": {"cell_type": "Jurkat T-cell leukemia"}, "perturbation": {"name": "x"}})
    assert not _is_cancer_context(huvec.context, "HUVEC tumour angiogenesis")
    assert _is_cancer_context(a549.context, "A549 lung adenocarcinoma")
    assert _is_cancer_context(jurkat.context, "Jurkat T-cell leukemia")


def test_angiogenesis_only_in_endothelial_contexts():
    from vcr_core.agents.assembler import _process_allowed
    assert _process_allowed("angiogenesis", "HUVEC endothelial")
    assert not _process_allowed("angiogenesis", "HEL erythroleukemia")
    assert _process_allowed("cell population proliferation", "HEL erythroleukemia")
    assert not _process_allowed("epithelial to mesenchymal transition", "primary human dermal fibroblasts")
    assert _process_allowed("epithelial to mesenchymal transition", "A549 lung adenocarcinoma")


def test_fusion_named_by_the_context_carries_the_target(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukemia",
                                              "description": "BCR-ABL1 positive leukaemia cell line"},
                      "perturbation": {"name": "imatinib", "target": ["ABL1"], "moa_type": "tyrosine kinase inhibitor"}}), kb)
    acts = {n.args["target"]: n for n in _claims(a, "modulates_molecule_activity")}
    assert acts["BCR-ABL1"].args["direction"] == "down"
    assert any(e["field"] == "context" for e in a.evidence[acts["BCR-ABL1"].id] if e.get("source") == "record")
    assert (acts["ABL1"].id, acts["BCR-ABL1"].id) in {(e.source, e.target) for e in a.explanation.edges}


def test_claims_name_the_sources_they_were_assembled_from(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "A375", "disease_model": "melanoma"},
                      "perturbation": {"name": "vemurafenib", "target": ["BRAF"], "moa_type": "BRAF inhibitor"}}), kb)
    by_id = a.sources["assembled_from"]
    assert by_id == assembled_from(a.evidence)
    bind = _claims(a, "binds_to")[0]
    ann = _claims(a, "participates_in")[0]
    assert by_id[bind.id] == ["record"] and by_id[ann.id] == ["go"]
    phen = _claims(a, "induces_phenotype")[0]
    assert "go" in by_id[phen.id]  # the vote's GO premise
    assert a.tool_entry()["evidence"]["sources"]["assembled_from"] == by_id


def test_named_drug_without_targets_gets_class_targets_labelled_as_inferred(kb, monkeypatch):
    """No target in the record or graph: the ChEBI class role names the class (knowledge.drug_targets); the
    binding and the activity are inferences, the direction is the role's, and a broad class is a gap."""
    from vcr_core.knowledge import drug_targets as dtm

    def fake(name, record=None):
        mk = dtm.DrugTarget
        return dtm.DrugTargets(name, "DB0", "CHEBI:1", ("B-Raf inhibitor", "protease inhibitor"),
                               (mk("B-Raf", frozenset({"BRAF"}), dtm.INFERRED, "ChEBI role", "inferred from ChEBI class role 'B-Raf inhibitor': 1 gene(s)"),
                                mk("protease", frozenset(f"P{i}" for i in range(60)), dtm.INFERRED, "ChEBI role", "601 genes")),
                               (), "down", "ChEBI roles 'B-Raf inhibitor'", ())
    monkeypatch.setattr(dtm, "drug_targets", fake)
    a = assemble(rec({"index": 1, "context": {"cell_type": "A375", "disease_model": "melanoma"},
                      "perturbation": {"type": "small molecule", "name": "vemurafenib"}}), kb)
    bind = _claims(a, "binds_to")
    assert [(n.args["target"], n.confidence) for n in bind] == [("BRAF", INFERRED)]
    assert "inferred from a class" in bind[0].via
    act = _claims(a, "modulates_molecule_activity")[0]
    assert (act.args["direction"], act.confidence) == ("down", INFERRED)
    assert "too broad to draw a target from" in a.report
    assert set(a.sources["assembled_from"][bind[0].id]) == {"kg", "record"}  # the record verifier reads ChEBI roles too
    assert _claims(a, "modulates_pathway_activity")  # BRAF -> ERK cascade -> outcome, as with a listed target


def test_ungrounded_record_target_is_not_drawn(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "K562"},
                      "perturbation": {"name": "imatinib", "target": ["<script>alert(4)</script>", "ABL1"],
                                       "moa_type": "ABL1 inhibitor"}}), kb)
    assert [n.args["target"] for n in _claims(a, "binds_to")] == ["ABL1"]
    assert "is no gene or family the offline sources know" in a.report


def test_a_role_phenotype_of_another_cell_type_is_not_drawn():
    from vcr_core.agents.assembler import _Builder, _Notes, _role_phenotypes
    notes = _Notes()
    hep = _role_phenotypes(_Builder(), "sorafenib", ["angiogenesis inhibitor"], True, notes, None, "HepG2 hepatocellular carcinoma")
    assert hep == [] and "not the cells of this context" in notes.gaps[0]
    assert _role_phenotypes(_Builder(), "sorafenib", ["angiogenesis inhibitor"], False, _Notes(), None, "HUVEC endothelial")


def test_a_transcription_factor_without_target_genes_is_a_stated_gap(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "A549", "disease_model": "lung adenocarcinoma"},
                      "perturbation": {"name": "dexamethasone", "target": ["NR3C1"], "moa_type": "glucocorticoid receptor agonist"}}), kb)
    assert "NR3C1 is a transcription factor" in a.report and "no regulates_expression claim" in a.report
    assert not _claims(a, "regulates_expression")


def test_the_pathway_reaches_its_outcome_through_the_effectors_it_is_named_for():
    """BRAF inhibitor -> ERK1/2 cascade down -> ERK activity down -> reduced proliferation (MAPK1/MAPK3 are the
    pathway's members that its GO name names)."""
    table = {k: list(v) for k, v in TABLE.items()}
    table["MAPK1"] = [ERK, PROLIF_UP]
    table["MAPK3"] = [ERK, PROLIF_UP]
    kb = Knowledge(graph=None, graph_reason="none", orgdb=TableOrgDb(table))
    a = assemble(rec({"index": 1, "context": {"cell_type": "A375", "disease_model": "melanoma"},
                      "perturbation": {"name": "vemurafenib", "target": ["BRAF"], "moa_type": "BRAF inhibitor"}}), kb)
    acts = {n.args["target"]: n for n in _claims(a, "modulates_molecule_activity")}
    erk = acts["ERK"]
    assert erk.args["direction"] == "down" and erk.confidence == INFERRED and "ERK1 and ERK2" in erk.via
    path = _claims(a, "modulates_pathway_activity")[0]
    phen = _claims(a, "induces_phenotype")[0]
    edges = {(e.source, e.target) for e in a.explanation.edges}
    assert (acts["BRAF"].id, path.id) in edges and (path.id, erk.id) in edges and (erk.id, phen.id) in edges
    assert _every_path_measurable(a)


MAPKK = ("GO:0004708", "MAP kinase kinase activity", "MF", "IDA")
MAPK = ("GO:0004707", "MAP kinase activity", "MF", "IDA")
MAPKKK = ("GO:0004709", "MAP kinase kinase kinase activity", "MF", "IBA")


def test_a_map_kinase_cascade_goes_through_its_map_kinase_kinases():
    """BRAF inhibitor -> ERK1/2 cascade down -> MEK (MAP2K1, MAP2K2: the cascade's members with 'MAP kinase kinase
    activity') down -> ERK down -> reduced proliferation. BRAF, a MAPKKK that GO also gives a MAPKK annotation,
    and a MAPK with an electronic MAPKK annotation are not MEK."""
    table = {k: list(v) for k, v in TABLE.items()}
    table["BRAF"] = table["BRAF"] + [ERK, MAPKKK, ("GO:0004708", "MAP kinase kinase activity", "MF", "IMP")]
    table["MAP2K1"] = [ERK, MAPKK]
    table["MAP2K2"] = [ERK, MAPKK, ("GO:0004708", "MAP kinase kinase activity", "MF", "IBA")]
    table["MAPK1"] = [ERK, PROLIF_UP, MAPK, ("GO:0004708", "MAP kinase kinase activity", "MF", "IEA")]
    table["MAPK3"] = [ERK, PROLIF_UP, MAPK]
    kb = Knowledge(graph=None, graph_reason="none", orgdb=TableOrgDb(table))
    a = assemble(rec({"index": 1, "context": {"cell_type": "A375", "disease_model": "melanoma"},
                      "perturbation": {"name": "vemurafenib", "target": ["BRAF"], "moa_type": "BRAF inhibitor"}}), kb)
    acts = {n.args["target"]: n for n in _claims(a, "modulates_molecule_activity")}
    assert set(acts) == {"BRAF", "MEK", "ERK"}
    mek, erk = acts["MEK"], acts["ERK"]
    assert mek.args["direction"] == "down" and mek.confidence == INFERRED
    assert "MAP2K1, MAP2K2" in mek.via and "GO:0004708" in mek.via and "FamPlex MEK" in mek.via
    ev = a.evidence[mek.id]
    assert any(e.get("id") == "GO:0004708" and "MAP2K1 IDA" in e.get("evidence_code", "") for e in ev)
    assert any(e.get("source") == "FamPlex" and e.get("id") == "FPLX:MEK" for e in ev)
    path = _claims(a, "modulates_pathway_activity")[0]
    edges = {(e.source, e.target) for e in a.explanation.edges}
    assert (path.id, mek.id) in edges and (mek.id, erk.id) in edges and (path.id, erk.id) not in edges
    assert any((erk.id, p.id) in edges for p in _claims(a, "induces_phenotype"))
    assert _every_path_measurable(a)
    assert "downstream it lowers the activity of the ERK1 and ERK2 cascade, MEK and ERK" in a.explanation.answer


def test_no_kinase_tier_when_the_effectors_are_not_map_kinases():
    """A cascade whose named effectors GO does not call MAP kinases gets no MAPKK step (nothing is guessed)."""
    table = {k: list(v) for k, v in TABLE.items()}
    table["MAP2K1"] = [ERK, MAPKK]
    table["MAPK1"] = [ERK, PROLIF_UP]
    table["MAPK3"] = [ERK, PROLIF_UP]
    kb = Knowledge(graph=None, graph_reason="none", orgdb=TableOrgDb(table))
    a = assemble(rec({"index": 1, "context": {"cell_type": "A375", "disease_model": "melanoma"},
                      "perturbation": {"name": "vemurafenib", "target": ["BRAF"], "moa_type": "BRAF inhibitor"}}), kb)
    assert {n.args["target"] for n in _claims(a, "modulates_molecule_activity")} == {"BRAF", "ERK"}


def test_a_cell_lines_driver_fusion_carries_the_mechanism(kb):
    """Imatinib in K562 (no fusion in the record's text): the curated table says K562 carries BCR-ABL1, so the
    mechanism runs ABL1 -> BCR-ABL1 -> reduced cancer cell growth, with the reference in the evidence; KIT and
    PDGFRA, also listed, are left out with the reason."""
    from vcr_core.knowledge.cell_lines import driver_fusion

    assert driver_fusion("K-562").fusion == "BCR-ABL1" and driver_fusion("NCI-H3122").fusion == "EML4-ALK"
    assert driver_fusion("HeLa") is None
    a = assemble(rec({"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukemia"},
                      "perturbation": {"name": "imatinib", "target": ["ABL1", "KIT", "PDGFRA"],
                                       "moa_type": "tyrosine kinase inhibitor"}}), kb)
    assert [n.args["target"] for n in _claims(a, "binds_to")] == ["ABL1"]
    acts = {n.args["target"]: n for n in _claims(a, "modulates_molecule_activity")}
    assert set(acts) == {"ABL1", "BCR-ABL1"}
    fus = acts["BCR-ABL1"]
    assert "curated cell-line table" in fus.via and "Grosveld" in fus.via
    assert any("Mol Cell Biol 1986" in e.get("reference", "") for e in a.evidence[fus.id])
    growth = next(n for n in _claims(a, "induces_phenotype") if n.args["phenotype"] == "reduced cancer cell growth")
    edge = next(e for e in a.explanation.edges if e.source == fus.id and e.target == growth.id)
    assert edge.relation == "causal" and growth.confidence == INFERRED
    assert "KIT, PDGFRA are not drawn" in a.report
    assert a.sources["assembled_from"][fus.id] == ["record"]  # the table is no verifier's source; the MoA is the record's
    assert _every_path_measurable(a)
    assert a.explanation.answer.startswith("imatinib in K562: imatinib binds ABL1 (in these cells part of BCR-ABL1)")


def test_without_a_driver_in_the_table_every_listed_target_is_drawn(kb):
    a = assemble(rec({"index": 1, "context": {"cell_type": "HUVEC"},
                      "perturbation": {"name": "imatinib", "target": ["ABL1", "KIT"], "moa_type": "tyrosine kinase inhibitor"}}), kb)
    assert [n.args["target"] for n in _claims(a, "binds_to")] == ["ABL1", "KIT"]


@pytest.mark.parametrize("obj, start, parts", [
    ({"context": {"cell_type": "A549", "disease_model": "lung adenocarcinoma"},
      "perturbation": {"name": "dexamethasone", "target": ["NR3C1"], "moa_type": "glucocorticoid receptor agonist"}},
     "dexamethasone in A549: dexamethasone binds NR3C1 and raises its activity", []),
    ({"context": {"cell_type": "A549"}, "perturbation": {"type": "siRNA", "name": "siRNA against KRAS"}},
     "siRNA against KRAS in A549: siRNA against KRAS removes the function of KRAS", ["inferred outcome"]),
    ({"context": {"cell_type": "A549"}, "perturbation": {"name": "IFN gamma"}},
     "IFN gamma in A549: IFN gamma binds IFNGR1 and IFNGR2", []),
    ({"context": {"cell_type": "A549"}, "perturbation": {"name": "zz-unknown-compound-17"}},
     "Nothing is known about zz-unknown-compound-17", []),
])
def test_the_answer_reads_as_a_sentence_for_every_record_shape(kb, obj, start, parts):
    from vcr_core.agents.assembler import DISCLAIMER

    answer = assemble(rec({"index": 1, **obj}), kb).explanation.answer
    assert answer.startswith(start), answer
    assert ":;" not in answer and ";;" not in answer and ", ," not in answer and answer.endswith(DISCLAIMER)
    for p in parts:
        assert p in answer
