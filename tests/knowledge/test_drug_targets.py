"""Targets of a drug: known (the record's grounded targets, PrimeKG edges) versus inferred (ChEBI class roles)."""
from __future__ import annotations

import pytest

from vcr_core.knowledge.drug_targets import (INFERRED_SCORE, KNOWN, drug_targets, fold_drug, in_known_family, moa_direction,
                                             role_targets)
from vcr_core.knowledge.genes import resolve
from vcr_core.knowledge.testing import use_test_orgdb
from vcr_core.records.model import parse_records

TAHOE_MEK = {"index": "t2", "perturbation": {"context": [{"cell type": "A375"}], "perturbations": [
    {"perturbation type": "chemical", "name": "Trametinib (DMSO_TF)", "known targets": ["MAP2K1", "MAP2K2", "<script>alert(4)</script>"],
     "moa_type": "MEK inhibitor"}]}}


def rec(raw):
    records, problems = parse_records([raw])
    assert not problems
    return records[0]


@pytest.fixture
def tiny_orgdb(monkeypatch, tmp_path):
    return use_test_orgdb(monkeypatch, tmp_path)


def test_moa_direction_and_names():
    assert moa_direction("MEK inhibitor") == "down" and moa_direction("receptor antagonist") == "down"
    assert moa_direction("partial agonist") == "up" and moa_direction("activator") == "up"
    assert moa_direction("inverse agonist") == "down" and moa_direction("agonist/antagonist") is None and moa_direction("") is None
    assert fold_drug("Imatinib mesylate") == "imatinib" and fold_drug("Trametinib (DMSO_TF)") == "trametinib"


def test_chebi_class_role_gives_inferred_targets_only(tiny_orgdb):
    """Trametinib's ChEBI role is ERK's EC class (EC 2.7.11.24), not MEK's: the genes are inferred, labelled, low."""
    dt = drug_targets("Trametinib")
    assert dt.drugbank_id == "DB08911" and dt.chebi_id == "CHEBI:75998"
    assert "EC 2.7.11.24 (mitogen-activated protein kinase) inhibitor" in dt.roles
    assert not dt.known and not dt.curated  # no curated list without the record or PrimeKG
    (ec,) = [t for t in dt.inferred if t.identifier == "EC 2.7.11.24"]
    assert {"MAPK1", "MAPK3"} <= ec.symbols and "inferred from ChEBI class role" in ec.detail
    m = dt.match("ERK2")
    assert m is not None and m.kind == "inferred" and m.score <= INFERRED_SCORE
    assert dt.match("MAP2K1") is None  # the class is wrong for MEK: nothing matches, and nothing here contradicts
    assert dt.direction == "down" and "ChEBI roles" in dt.direction_source
    assert any("PrimeKG not configured" in n for n in dt.notes)


def test_named_class_roles_map_through_famplex_and_genes():
    bort = drug_targets("bortezomib")
    prot = [t for t in bort.inferred if t.identifier == "FPLX:Proteasome"]
    assert prot and "PSMB5" in prot[0].symbols and "proteasome inhibitor" in prot[0].detail
    siro = drug_targets("sirolimus")
    assert [t.symbols for t in siro.inferred] == [frozenset({"MTOR"})]
    assert role_targets("antineoplastic agent") == (None, None)
    assert role_targets("angiogenesis inhibitor")[0] is None and role_targets("apoptosis inducer")[0] is None


def test_record_targets_are_grounded_before_they_count(tiny_orgdb):
    r = rec(TAHOE_MEK)
    dt = drug_targets("trametinib", r)
    assert [t.name for t in dt.known] == ["MAP2K1", "MAP2K2"] and all(t.kind == KNOWN for t in dt.known)
    assert dt.ungrounded == ("<script>alert(4)</script>",) and dt.curated
    assert dt.match("<script>alert(4)</script>") is None  # written in the record, but no gene: supports nothing
    m = dt.match("MEK1")
    assert m.kind == "known" and m.score == pytest.approx(0.9) and "record t2 'known targets'" in m.how
    fam = dt.match("MEK1/2")  # the FamPlex family MEK contains the listed genes
    assert fam.kind == "known" and fam.score == pytest.approx(0.75)
    assert dt.direction == "down" and dt.direction_source == "record t2 MoA 'MEK inhibitor'"
    assert "MAP2K1, MAP2K2 (record t2 'known targets')" == dt.checked_against()
    assert in_known_family(dt, resolve("MAP2K1")) and not in_known_family(dt, resolve("EGFR"))
    assert drug_targets("dexamethasone", r).known == ()  # another drug: the record says nothing about it


def test_primekg_drug_target_edges(monkeypatch, tmp_path):
    kg = tmp_path / "kg.csv"
    kg.write_text(
        "relation,display_relation,x_index,x_id,x_type,x_name,x_source,y_index,y_id,y_type,y_name,y_source\n"
        "drug_protein,target,1,DB08911,drug,Trametinib,DrugBank,2,5604,gene/protein,MAP2K1,NCBI\n"
        "drug_protein,target,2,5605,gene/protein,MAP2K2,NCBI,1,DB08911,drug,Trametinib,DrugBank\n"
        "drug_protein,enzyme,1,DB08911,drug,Trametinib,DrugBank,3,1576,gene/protein,CYP3A4,NCBI\n"
        "drug_drug,synergistic interaction,1,DB08911,drug,Trametinib,DrugBank,4,DB08912,drug,Dabrafenib,DrugBank\n")
    monkeypatch.setenv("PRIMEKG_CSV", str(kg))
    from vcr_core.kernel.settings import get_settings
    get_settings.cache_clear()
    dt = drug_targets("trametinib")
    assert sorted(t.name for t in dt.known) == ["MAP2K1", "MAP2K2"]  # the enzyme edge is not a target
    assert dt.known[0].source == "PrimeKG drug_protein target edge" and dt.curated
    assert dt.match("MEK2").kind == "known" and not in_known_family(dt, resolve("BRAF"))


def test_lists_and_kinase_words_are_grounded():
    from vcr_core.knowledge.drug_targets import ground_target, split_target_list
    assert split_target_list("VEGFR1/2/3") == ["VEGFR1", "VEGFR2", "VEGFR3"]
    rc, how = ground_target("VEGFR-1/VEGFR-2/VEGFR-3")
    assert rc.kind == "list" and rc.symbols == {"FLT1", "KDR", "FLT4"} and "lists" in how
    assert ground_target("VEGFR kinase")[0].family == "VEGFR"
    assert ground_target("ERK1/2")[0].kind == "family"  # a FamPlex name is read whole first
    assert split_target_list("VEGFR2/zorblin") is None and ground_target("<script>/alert")[0] is None
    dt = drug_targets("Nintedanib", rec({"index": "t5", "perturbation": {"context": [{"cell type": "HUVEC"}], "perturbations": [
        {"perturbation type": "chemical", "name": "Nintedanib", "known targets": ["KDR", "FLT1", "FLT4", "FGFR1"], "moa_type": "inhibitor"}]}}))
    whole = dt.match("VEGFR1/2/3")
    assert whole is not None and whole.kind == "known"
    assert dt.match("VEGFR2/EGFR") is None and dt.list_matches("VEGFR2/EGFR")[1] == ["EGFR"]
