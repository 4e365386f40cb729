"""Signalling knowledge read from GO annotations: a ligand's receptors, the pathways a gene regulates, and
the outcomes a pathway's members agree on (a small hand-made annotation table in the org.Hs.eg.db API)."""
from __future__ import annotations

from vcr_core.knowledge import signalling
from vcr_core.knowledge.signalling import pathway_outcomes, receptors_of, regulated_pathways
from vcr_core.knowledge.testing import TableOrgDb


def names(symbol):
    return {"KDR": ("KDR", "VEGFR2", "FLK1"), "TNFRSF1A": ("TNFRSF1A", "TNFR1"), "TNFRSF14": ("TNFRSF14", "HVEM")}.get(symbol, (symbol,))


def test_receptors_named_after_their_ligand_among_a_receptor_class():
    db = TableOrgDb({
        "TNF": [("GO:0005164", "tumor necrosis factor receptor binding", "MF", "IPI")],
        "TNFRSF1A": [("GO:0005031", "tumor necrosis factor receptor activity", "MF", "TAS")],
        "TNFRSF14": [("GO:0005031", "tumor necrosis factor receptor activity", "MF", "IDA")],  # LIGHT's receptor
        "VEGFA": [("GO:0005172", "vascular endothelial growth factor receptor binding", "MF", "IPI")],
        "KDR": [("GO:0005021", "vascular endothelial growth factor receptor activity", "MF", "IDA")],
        "FLT3": [("GO:0005021", "vascular endothelial growth factor receptor activity", "MF", "TAS")],
    })
    tnf = receptors_of(db, ["TNF"], names=names)
    assert [r.receptor for r in tnf] == ["TNFRSF1A"]  # TNFR1 by HGNC's alias; HVEM is not named after TNF
    assert tnf[0].evidence == "IPI" and "HGNC" in tnf[0].why
    assert [r.receptor for r in receptors_of(db, ["VEGFA"], names=names)] == ["KDR"]  # VEGFR2; FLT3 is not a VEGFR


def test_no_receptor_from_a_generic_class():
    db = TableOrgDb({"CXCL12": [("GO:0042379", "chemokine receptor binding", "MF", "IMP")],
                     **{f"CCR{i}": [("GO:0004950", "chemokine receptor activity", "MF", "IMP")] for i in range(1, 11)}})
    assert receptors_of(db, ["CXCL12"], names=names) == []  # ten chemokine receptors: no guess


def test_pathways_and_the_outcomes_their_members_agree_on():
    members = {f"G{i}": [("GO:0070371", "ERK1 and ERK2 cascade", "BP", "IDA"),
                         ("GO:0008284", "positive regulation of cell population proliferation", "BP", "IMP")] for i in range(5)}
    members["G5"] = [("GO:0070371", "ERK1 and ERK2 cascade", "BP", "IDA"),
                     ("GO:0008285", "negative regulation of cell population proliferation", "BP", "IDA"),
                     ("GO:0043066", "negative regulation of apoptotic process", "BP", "IEA")]  # electronic: no vote
    db = TableOrgDb({"BRAF": [("GO:0070374", "positive regulation of ERK1 and ERK2 cascade", "BP", "IDA"),
                              ("GO:0043408", "regulation of MAPK cascade", "BP", "IDA"),  # no direction
                              ("GO:0046330", "positive regulation of JNK cascade", "BP", "IEA")],  # electronic
                     **members})
    links = regulated_pathways(db, "BRAF")
    assert [(p.pathway, p.sign, p.pathway_go_id) for p in links] == [("ERK1 and ERK2 cascade", 1, "GO:0070371")]
    outs = pathway_outcomes(db, "GO:0070371")
    assert [(o.process, o.sign, len(o.agree), len(o.disagree)) for o in outs] == [("cell population proliferation", 1, 5, 1)]
    assert "5 member gene(s)" in outs[0].statement


def test_a_split_vote_gives_no_outcome():
    rows = {f"G{i}": [("GO:0007259", "receptor signaling pathway via JAK-STAT", "BP", "IDA"),
                      (("GO:0008284", "positive regulation of cell population proliferation") if i < 4 else
                       ("GO:0008285", "negative regulation of cell population proliferation")) + ("BP", "IDA")] for i in range(6)}
    db = TableOrgDb(rows)
    assert pathway_outcomes(db, "GO:0007259") == []  # 4 against 2: below the agreement a vote needs
    assert signalling.MIN_AGREEMENT > 4 / 6


def test_the_effectors_a_pathway_is_named_for():
    from vcr_core.knowledge.signalling import pathway_effectors

    erk = ("GO:0070371", "ERK1 and ERK2 cascade", "BP", "IDA")
    db = TableOrgDb({"MAPK1": [erk], "MAPK3": [erk], "BRAF": [erk],
                     "MTOR": [("GO:0031929", "TOR signaling", "BP", "IDA")]})
    eff = pathway_effectors(db, "ERK1 and ERK2 cascade", "GO:0070371")  # the real gene resolver: ERK1 = MAPK3, ERK2 = MAPK1
    assert [(e.name, e.symbols) for e in eff] == [("ERK", ("MAPK1", "MAPK3"))]
    assert pathway_effectors(db, "TOR signaling", "GO:0031929") == []  # "TOR" reads as RORC, which is no member
