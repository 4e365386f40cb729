"""The record verifier: targets and MoA in the record itself, closed world only for Tahoe's known targets."""
from __future__ import annotations

import pytest

from vcr_core.formalism import Explanation, Node
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.record import RecordVerifier, genetic_direction, moa_direction

TAHOE = {"index": "t1", "perturbation": {"context": [{"cell type": "HUVEC"}], "perturbations": [
    {"perturbation type": "chemical", "name": "Nintedanib esylate", "known targets": ["VEGFR2", "FLT1", "FGFR1", "PDGFRB"],
     "moa_type": "inhibitor/antagonist"}]}}
TAHOE_MEK = {"index": "t2", "perturbation": {"context": [{"cell type": "A375"}], "perturbations": [
    {"perturbation type": "chemical", "name": "trametinib", "known targets": ["MAP2K1", "MAP2K2"], "moa_type": "inhibitor"}]}}
TAHOE_ODD = {"index": "t3", "perturbation": {"context": [{"cell type": "A549"}], "perturbations": [
    {"perturbation type": "chemical", "name": "oddamycin", "known targets": ["DNA", "ABL1"], "moa_type": "unclear"}]}}
SINGLE = {"index": 2, "context": {"cell_type": "A549"},
          "perturbation": {"type": "small molecule", "name": "dexamethasone", "target": "NR3C1", "moa_type": "glucocorticoid receptor agonist"}}
KNOCKOUT = {"index": 5, "context": {"perturbation_type": "genetic", "cell_type": "MCF7"},
            "perturbation": {"type": "CRISPR knockout", "name": "TP53 knockout", "target": "TP53"}}


def rec(raw):
    records, problems = parse_records([raw])
    assert not problems
    return records[0]


def check(raw, action, **args):
    node = Node(id="n1", action=action, args=args)
    return RecordVerifier().verify(ClaimContext(node=node, explanation=Explanation(nodes=[node]), record=rec(raw)))


def test_binds_listed_target_through_alias_and_salt():
    v = check(TAHOE, "binds_to", actor="nintedanib", target="KDR")  # VEGFR2 == KDR; esylate ignored
    assert v.verdict == "supported" and v.score == pytest.approx(0.9)
    ev = v.evidence[0]
    assert ev["field"] == "known targets" and ev["matched"] == "VEGFR2" and "FLT1" in ev["value"]
    assert check(TAHOE, "binds_to", actor="Nintedanib", target="vegfr-2").verdict == "supported"
    assert check(SINGLE, "binds_to", actor="dexamethasone", target="glucocorticoid receptor").verdict != "contradicted"
    assert check(SINGLE, "binds_to", actor="dexamethasone", target="nr3c1").verdict == "supported"


def test_binds_family_relations_are_support():
    fam = check(TAHOE_MEK, "binds_to", actor="trametinib", target="MEK1/2")
    assert fam.verdict == "supported" and fam.score == pytest.approx(0.75) and "member" in fam.evidence[0]["how"]


@pytest.fixture
def tiny_orgdb(monkeypatch, tmp_path):
    """The tiny org.Hs.eg.db, with KDR a kinase too (ABL1 already is): GO classes for the closed world."""
    from vcr_core.kernel.settings import get_settings
    from vcr_core.knowledge.orgdb import reset_orgdb
    from vcr_core.knowledge.testing import make_test_orgdb

    path = make_test_orgdb(tmp_path / "org.Hs.eg.sqlite", extra_annotations=[("3791", "MF", "GO:0004713", "IDA")])
    monkeypatch.setenv("ORGDB_PATH", str(path))
    get_settings.cache_clear()
    reset_orgdb()
    yield path
    reset_orgdb()


def test_binds_outside_a_complete_list_is_contradicted(tiny_orgdb):
    v = check(TAHOE, "binds_to", actor="nintedanib", target="ESR1")
    assert v.verdict == "contradicted" and v.score >= 0.5
    assert v.message.startswith("closed world: VEGFR2, FLT1, FGFR1, PDGFRB (record t1 'known targets') list(s) 4 known")
    assert v.evidence[-1]["closed_world"] and v.evidence[0]["field"] == "known targets"


def test_binds_outside_the_list_stays_unverifiable_when_the_world_is_open():
    sibling = check(TAHOE_MEK, "binds_to", actor="trametinib", target="MAP2K4")  # same FamPlex MAP2K family
    assert sibling.verdict == "unverifiable" and "family" in sibling.message
    single = check(SINGLE, "binds_to", actor="dexamethasone", target="ESR1")  # 'target' is not a complete list
    assert single.verdict == "unverifiable" and "open world" in single.message
    unresolved = check(TAHOE_ODD, "binds_to", actor="oddamycin", target="ESR1")  # 'DNA' cannot be compared by alias
    assert unresolved.verdict == "unverifiable" and "DNA" in unresolved.message
    made_up = check(TAHOE, "binds_to", actor="nintedanib", target="FOOBAR7")  # not a gene: that is the entity verifier's job
    assert made_up.verdict == "unverifiable"
    other_actor = check(TAHOE, "binds_to", actor="imatinib", target="ESR1")
    assert other_actor.verdict == "unverifiable" and "not the record's perturbation" in other_actor.message


def test_direction_from_moa():
    assert check(TAHOE, "modulates_molecule_activity", target="KDR", direction="down").verdict == "supported"
    flipped = check(TAHOE, "modulates_molecule_activity", target="KDR", direction="up")
    assert flipped.verdict == "contradicted" and flipped.score >= 0.5 and flipped.evidence[0]["moa_type"] == "inhibitor/antagonist"
    agonist = check(SINGLE, "modulates_molecule_activity", target="NR3C1", direction="down")
    assert agonist.verdict == "contradicted" and "agonist" in agonist.message
    assert check(SINGLE, "modulates_molecule_activity", target="NR3C1", direction="up").verdict == "supported"
    assert check(TAHOE, "modulates_molecule_activity", target="MYC", direction="up").verdict == "unverifiable"
    assert check(TAHOE_ODD, "modulates_molecule_activity", target="ABL1", direction="up").verdict == "unverifiable"  # 'unclear'


def test_direction_only_for_the_records_own_actor():
    vegf = Node(id="n0", action="binds_to", args={"actor": "VEGF-A", "target": "KDR"})
    node = Node(id="n1", action="modulates_molecule_activity", args={"target": "KDR", "direction": "up"}, via="n0")
    v = RecordVerifier().verify(ClaimContext(node=node, explanation=Explanation(nodes=[vegf, node]), record=rec(TAHOE)))
    assert v.verdict == "unverifiable" and "VEGF-A" in v.message
    drug = Node(id="n0", action="binds_to", args={"actor": "nintedanib", "target": "KDR"})
    v = RecordVerifier().verify(ClaimContext(node=node, explanation=Explanation(nodes=[drug, node]), record=rec(TAHOE)))
    assert v.verdict == "contradicted"


def test_direction_of_a_knockout():
    assert check(KNOCKOUT, "modulates_molecule_activity", target="p53", direction="down").verdict == "supported"
    assert check(KNOCKOUT, "modulates_molecule_activity", target="TP53", direction="up").verdict == "contradicted"


def test_moa_words():
    assert moa_direction("tyrosine kinase inhibitor") == "down" and moa_direction("inverse agonist") == "down"
    assert moa_direction("partial agonist") == "up" and moa_direction("antagonist") == "down"
    assert moa_direction("unclear") is None and moa_direction("agonist/antagonist") is None
    assert genetic_direction("CRISPRi") == "down" and genetic_direction("CRISPR activation") == "up"


def test_closed_world_contradicts_a_kinase_outside_the_list_and_names_the_list(tiny_orgdb):
    """ABL1 and the listed KDR are both kinases, but the curated list (not a class) decides: ABL1 is none of nintedanib's
    listed targets nor of their FamPlex families; the score stays below 1 (off-targets exist)."""
    v = check(TAHOE, "binds_to", actor="nintedanib", target="ABL1")
    assert v.verdict == "contradicted" and v.score == pytest.approx(0.5) and "kinase (GO:0016301)" in v.message
    other = check(TAHOE, "binds_to", actor="nintedanib", target="TP53")  # no class in common: the stronger 0.6
    assert other.verdict == "contradicted" and other.score == pytest.approx(0.6) and "no GO molecular-function class" in other.evidence[-1]["class_check"]
    lst = [e for e in v.evidence if e["kind"] == "drug_target_list"][0]
    assert lst["checked_against"] == "VEGFR2, FLT1, FGFR1, PDGFRB (record t1 'known targets')" and lst["claimed_as"] == ["ABL1"]


def test_record_targets_are_grounded_before_they_support():
    """A target copied from the record supports nothing unless it is a real gene: the record is not evidence for itself."""
    hostile = {"index": "h1", "perturbation": {"type": "chemical", "name": "oddamycin", "target": "<script>alert(4)</script>",
                                               "moa_type": "inhibitor"}}
    v = check(hostile, "binds_to", actor="oddamycin", target="<script>alert(4)</script>")
    assert v.verdict == "unverifiable" and "not genes or families" in v.message
    assert check(hostile, "modulates_molecule_activity", target="<script>alert(4)</script>", direction="down").verdict == "unverifiable"


def test_unknown_drugs_stay_unverifiable_and_class_roles_support_weakly():
    other = check(SINGLE, "binds_to", actor="zorblatinib", target="EGFR")
    assert other.verdict == "unverifiable" and "unknown drugs stay unverifiable" in other.message
    # sirolimus is no perturbation of this record; its ChEBI role "mTOR inhibitor" supports MTOR only weakly
    siro = check(SINGLE, "binds_to", actor="sirolimus", target="mTOR")
    assert siro.verdict == "supported" and siro.score <= 0.5 and "inferred" in siro.message
    assert check(SINGLE, "binds_to", actor="sirolimus", target="EGFR").verdict == "unverifiable"  # never contradicted


def test_variants_and_fusions_read_as_their_gene():
    braf = {"index": "t9", "perturbation": {"context": [{"cell type": "A375"}], "perturbations": [
        {"perturbation type": "chemical", "name": "vemurafenib", "known targets": ["BRAF"], "moa_type": "inhibitor"}]}}
    v = check(braf, "binds_to", actor="vemurafenib", target="BRAF V600E")
    assert v.verdict == "supported" and "BRAF V600E is BRAF" in v.evidence[0]["how"]  # LINCS names the mutant protein
    v = check(braf, "binds_to", actor="vemurafenib", target="BRAF K601E")  # no vocabulary does: the variant is read off
    assert v.verdict == "supported" and "variant of BRAF" in v.evidence[0]["how"]
    abl = {"index": "t8", "perturbation": {"context": [{"cell type": "K562"}], "perturbations": [
        {"perturbation type": "chemical", "name": "imatinib", "known targets": ["ABL1", "KIT"], "moa_type": "inhibitor"}]}}
    fusion = check(abl, "modulates_molecule_activity", target="BCR-ABL1", direction="down")
    assert fusion.verdict == "supported" and "fusion containing" in fusion.evidence[0]["how"]


def test_loss_of_function_of_the_knocked_out_gene():
    tp53 = {"index": 10, "perturbation": {"context": [{"cell line": "HCT116"}], "perturbations": [
        {"perturbation type": "genetic", "name": "TP53 knockout", "gene symbol": "TP53", "known targets": ["TP53"]}]}}
    own = check(tp53, "loss_of_function", variant="TP53 knockout", protein="p53")
    assert own.verdict == "supported" and own.evidence[0]["gene"] == "TP53"
    other = check(tp53, "loss_of_function", variant="TP53 knockout", protein="PTPN11")
    assert other.verdict == "contradicted" and "knocks out TP53, not PTPN11" in other.message
    assert check(tp53, "loss_of_function", variant="KRAS G12C", protein="KRAS").verdict == "unverifiable"
    assert check(tp53, "loss_of_function", variant="TP53 knockout", protein="Nutlin-3a").verdict == "unverifiable"
    assert check(KNOCKOUT, "loss_of_function", variant="TP53 knockout", protein="TP53").verdict == "supported"


def test_direction_is_not_judged_when_another_actor_is_the_direct_cause():
    """The published Lenvatinib trace: "VEGF binds VEGFR2" (n1) -> "VEGFR2 activity up" (n2). VEGF added to the medium
    is the cause; the drug's "inhibitor" MoA must not contradict it."""
    from vcr_core.formalism.model import Edge
    vegf = Node(id="n1", action="binds_to", args={"actor": "VEGF", "target": "VEGFR2"})
    up = Node(id="n2", action="modulates_molecule_activity", args={"target": "VEGFR2", "direction": "up"})
    exp = Explanation(nodes=[vegf, up], edges=[Edge(source="n1", target="n2")])
    v = RecordVerifier().verify(ClaimContext(node=up, explanation=exp, record=rec(TAHOE)))
    assert v.verdict == "unverifiable" and "n1" in v.message and "'VEGF'" in v.message
    drug = Node(id="n1", action="binds_to", args={"actor": "nintedanib", "target": "VEGFR2"})
    exp = Explanation(nodes=[drug, up], edges=[Edge(source="n1", target="n2")])
    assert RecordVerifier().verify(ClaimContext(node=up, explanation=exp, record=rec(TAHOE))).verdict == "contradicted"


def test_phosphorylation_of_an_inhibited_receptor_kinase_goes_down():
    """Nintedanib inhibits VEGFR2 (KDR, a receptor tyrosine kinase): its autophosphorylation falls; "up" is not contradicted."""
    from vcr_core.knowledge.orgdb import get_orgdb
    if get_orgdb() is None:
        pytest.skip("the real org.Hs.eg.sqlite is not installed; `bash .ci/bootstrap setup` extracts it")
    down = check(TAHOE, "post_translational_modification", protein="VEGFR-2", mod_type="phosphorylation", direction="down")
    assert down.verdict == "supported" and down.score == pytest.approx(0.6) and "GO:0004714" in down.message
    up = check(TAHOE, "post_translational_modification", protein="KDR", mod_type="phosphorylation", direction="up")
    assert up.verdict == "unverifiable"
    mek = check(TAHOE_MEK, "post_translational_modification", protein="MEK1", mod_type="phosphorylation", direction="down")
    assert mek.verdict == "unverifiable" and "not annotated as a receptor tyrosine kinase" in mek.message
    erk = check(TAHOE_MEK, "post_translational_modification", protein="ERK1/2", mod_type="phosphorylation", direction="down")
    assert erk.verdict == "unverifiable" and "kinase-substrate" in erk.message


def test_a_partly_listed_list_is_not_contradicted(tiny_orgdb):
    assert check(TAHOE, "binds_to", actor="nintedanib", target="VEGFR1/2").verdict == "supported"
    part = check(TAHOE, "binds_to", actor="nintedanib", target="VEGFR2/ESR1")
    assert part.verdict == "unverifiable" and "ESR1 not among the known targets" in part.message
    assert check(TAHOE, "modulates_molecule_activity", target="VEGFR-1/VEGFR-2", direction="down").verdict == "supported"


def test_a_promiscuous_inhibitors_list_does_not_rule_out_another_of_its_class(monkeypatch, tmp_path):
    """Five or more listed targets of one class (here kinases) mark a drug promiscuous within it: its curated list is
    a sample, so another kinase is left unverifiable (not contradicted); a target of another class still is."""
    from vcr_core.kernel.settings import get_settings
    from vcr_core.knowledge.orgdb import reset_orgdb
    from vcr_core.knowledge.testing import make_test_orgdb

    kinase = "GO:0004713"  # protein tyrosine kinase activity (a kinase in the tiny file's ancestry)
    genes = [("6714", "SRC", "SRC proto-oncogene", ["c-SRC"], ["P12931"]), ("695", "BTK", "Bruton tyrosine kinase", ["ATK"], ["Q06187"])]
    extra = [(eg, "MF", kinase, "IDA") for eg in ("3791", "5594", "5595", "6714", "695")]
    monkeypatch.setenv("ORGDB_PATH", str(make_test_orgdb(tmp_path / "org.Hs.eg.sqlite", extra_annotations=extra, extra_genes=genes)))
    get_settings.cache_clear()
    reset_orgdb()
    try:
        many = {"index": "t9", "perturbation": {"context": [{"cell type": "K562"}], "perturbations": [
            {"perturbation type": "chemical", "name": "manykinib", "known targets": ["ABL1", "SRC", "KDR", "MAPK1", "MAPK3"],
             "moa_type": "inhibitor"}]}}
        v = check(many, "binds_to", actor="manykinib", target="BTK")
        assert v.verdict == "unverifiable" and "promiscuous" in v.message and "5 of them" in v.message
        assert check(many, "binds_to", actor="manykinib", target="ESR1").verdict == "contradicted"
        few = {"index": "t10", "perturbation": {"context": [{"cell type": "K562"}], "perturbations": [
            {"perturbation type": "chemical", "name": "fewkinib", "known targets": ["ABL1", "SRC"], "moa_type": "inhibitor"}]}}
        weak = check(few, "binds_to", actor="fewkinib", target="BTK")
        assert weak.verdict == "contradicted" and weak.score == pytest.approx(0.5)
    finally:
        reset_orgdb()
