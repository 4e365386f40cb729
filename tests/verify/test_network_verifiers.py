"""INDRA and ChEMBL verifiers against stand-in servers on 127.0.0.1 that answer in each service's format;
offline they are unavailable with the reason, never a verdict."""
from __future__ import annotations

from dataclasses import replace

import pytest

from vcr_core.formalism import Explanation, Node
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.chembl import ChemblVerifier
from vcr_core.verify.indra import IndraVerifier, agent_param, claim_subject

RECORD = parse_records([{"index": 1, "context": {"cell_type": "K562"},
                         "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"]}}])[0][0]


def ctx(action, via_node=None, **args):
    node = Node(id="n2", action=action, args=args, via=via_node.id if via_node else None)
    nodes = [via_node, node] if via_node else [node]
    return ClaimContext(node=node, explanation=Explanation(nodes=nodes), record=RECORD, batch_id=1)


def stmt(kind, subj, obj, pmid, **extra):
    return {"type": kind, "subj": {"name": subj, "db_refs": {"TEXT": subj}}, "obj": {"name": obj, "db_refs": {"TEXT": obj}},
            "belief": 0.95, "evidence": [{"source_api": "reach", "pmid": pmid, "text": f"{subj} {kind} {obj}",
                                          "text_refs": {"PMID": pmid}}], "id": f"id-{pmid}", "matches_hash": pmid, **extra}


# What db.indra.bio's /statements/from_agents answers, keyed by (subject, object).
INDRA = {
    ("imatinib", "ABL1"): {"-101": stmt("Inhibition", "imatinib", "ABL1", "11423618"), "202": stmt("Complex", "imatinib", "ABL1", "1")},
    ("TP53", "CDKN1A"): {"303": stmt("IncreaseAmount", "TP53", "CDKN1A", "8242752")},
    ("TP53", "MDM2"): {"404": stmt("IncreaseAmount", "TP53", "MDM2", "8319905")},
    ("MYC", "CDKN1A"): {"505": stmt("DecreaseAmount", "MYC", "CDKN1A", "11739737"), "606": stmt("IncreaseAmount", "MYC", "CDKN1A", "2")},
}
TOTALS = {"-101": 57, "202": 12, "303": 140, "404": 88, "505": 25, "606": 2}


def indra_handler(path, q):
    assert path == "/statements/from_agents" and q["format"] == "json"
    found = INDRA.get((q.get("subject"), q.get("object")), {})
    totals = {h: TOTALS[h] for h in found}
    return 200, {"statements": found, "offset": 0, "evidence_limit": int(q.get("ev_limit", 10)), "statement_limit": 1000,
                 "evidence_totals": totals, "total_evidence": sum(totals.values()), "evidence_returned": len(found),
                 "source_counts": {h: {"reach": n} for h, n in totals.items()}}


def test_indra_supports_signed_claims_with_counts_and_pmids(stub):
    server = stub(indra_handler)
    v = IndraVerifier(server.url)
    binds = Node(id="n1", action="binds_to", args={"actor": "imatinib", "target": "ABL1"})
    ok = v.verify(ctx("modulates_molecule_activity", via_node=binds, target="ABL1", direction="down"))
    assert ok.verdict == "supported" and ok.score == pytest.approx(0.85)
    ev = ok.evidence[0]
    assert ev["type"] == "Inhibition" and ev["evidence_count"] == 57 and ev["pmids"] == ["11423618"]
    expr = v.verify(ctx("regulates_expression", regulator="TP53", gene_list=["CDKN1A", "MDM2"], direction="up"))
    assert expr.verdict == "supported" and "228" in expr.message


def test_indra_contradicts_only_on_strong_one_sided_evidence(stub):
    server = stub(indra_handler)
    v = IndraVerifier(server.url)
    flipped = v.verify(ctx("modulates_molecule_activity", target="ABL1", direction="up"))  # subject: the record's imatinib
    assert flipped.verdict == "contradicted" and flipped.score >= 0.5 and "57" in flipped.message
    mixed = v.verify(ctx("regulates_expression", regulator="MYC", gene_list=["CDKN1A"], direction="up"))
    assert mixed.verdict == "unverifiable" and "mixed" in mixed.message  # 2 for, 25 against: not a contradiction
    none = v.verify(ctx("regulates_expression", regulator="TP53", gene_list=["ALB"], direction="down"))
    assert none.verdict == "unverifiable" and "absence never contradicts" in none.message


def test_indra_offline_and_unreachable_are_unavailable(monkeypatch, free_port_url):
    v = IndraVerifier("https://db.indra.bio")  # OFFLINE=true in every test
    off = v.verify(ctx("modulates_molecule_activity", target="ABL1", direction="down"))
    assert off.verdict == "unverifiable" and "OFFLINE=true" in off.message
    gone = IndraVerifier(free_port_url)
    gone.client.policy = replace(gone.client.policy, attempts=1)
    down = gone.verify(ctx("modulates_molecule_activity", target="ABL1", direction="down"))
    assert down.verdict == "unverifiable" and "unavailable" in down.message


def test_subject_and_agent_params():
    binds = Node(id="n1", action="binds_to", args={"actor": "nintedanib", "target": "KDR"})
    node = Node(id="n2", action="modulates_molecule_activity", args={"target": "KDR", "direction": "down"}, via="n1")
    assert claim_subject(node, Explanation(nodes=[binds, node]), RECORD) == "nintedanib"
    assert claim_subject(Node(id="x", action="modulates_molecule_activity", args={}), None, RECORD) == "imatinib"
    assert agent_param("VEGFR2") == "KDR" and agent_param("ERK1/2") == "ERK@FPLX" and agent_param("imatinib") == "imatinib"


# ChEMBL's answers (the shapes of /molecule/search.json, /mechanism.json, /target.json).
MOLECULES = {"molecules": [
    {"molecule_chembl_id": "CHEMBL1642", "pref_name": "IMATINIB MESYLATE", "molecule_hierarchy": {"molecule_chembl_id": "CHEMBL1642", "parent_chembl_id": "CHEMBL941"},
     "molecule_synonyms": [{"molecule_synonym": "Gleevec", "syn_type": "TRADE_NAME", "synonyms": "GLEEVEC"}]},
    {"molecule_chembl_id": "CHEMBL941", "pref_name": "IMATINIB", "molecule_hierarchy": {"molecule_chembl_id": "CHEMBL941", "parent_chembl_id": "CHEMBL941"},
     "molecule_synonyms": [{"molecule_synonym": "Imatinib", "syn_type": "INN", "synonyms": "IMATINIB"}]},
    {"molecule_chembl_id": "CHEMBL9999", "pref_name": "IMATINIB-LIKE THING", "molecule_hierarchy": None, "molecule_synonyms": []}],
    "page_meta": {"limit": 20, "next": None, "offset": 0, "previous": None, "total_count": 3}}
MECHANISMS = {"mechanisms": [
    {"action_type": "INHIBITOR", "mechanism_of_action": "Bcr/Abl fusion protein inhibitor", "molecule_chembl_id": "CHEMBL941",
     "parent_molecule_chembl_id": "CHEMBL941", "target_chembl_id": "CHEMBL2096618", "direct_interaction": True, "max_phase": 4,
     "mechanism_refs": [{"ref_type": "FDA", "ref_id": "label_021588", "ref_url": "http://www.accessdata.fda.gov/"}]},
    {"action_type": "INHIBITOR", "mechanism_of_action": "Stem cell growth factor receptor inhibitor", "molecule_chembl_id": "CHEMBL941",
     "parent_molecule_chembl_id": "CHEMBL941", "target_chembl_id": "CHEMBL1936", "direct_interaction": True, "max_phase": 4,
     "mechanism_refs": []}],
    "page_meta": {"limit": 100, "next": None, "offset": 0, "previous": None, "total_count": 2}}
TARGETS = {"targets": [
    {"target_chembl_id": "CHEMBL2096618", "pref_name": "Bcr/Abl fusion protein", "target_type": "PROTEIN FAMILY", "organism": "Homo sapiens",
     "target_components": [{"accession": "P00519", "component_type": "PROTEIN", "target_component_synonyms": [
         {"component_synonym": "ABL1", "syn_type": "GENE_SYMBOL"}, {"component_synonym": "ABL", "syn_type": "GENE_SYMBOL_OTHER"}]},
         {"accession": "P11274", "component_type": "PROTEIN", "target_component_synonyms": [{"component_synonym": "BCR", "syn_type": "GENE_SYMBOL"}]}]},
    {"target_chembl_id": "CHEMBL1936", "pref_name": "Stem cell growth factor receptor", "target_type": "SINGLE PROTEIN", "organism": "Homo sapiens",
     "target_components": [{"accession": "P10721", "component_type": "PROTEIN", "target_component_synonyms": [
         {"component_synonym": "KIT", "syn_type": "GENE_SYMBOL"}]}]}],
    "page_meta": {"limit": 100, "next": None, "offset": 0, "previous": None, "total_count": 2}}


def chembl_handler(path, q):
    if path.endswith("/molecule/search.json"):
        return 200, MOLECULES if q["q"].lower() in ("imatinib", "gleevec") else {"molecules": [], "page_meta": {"total_count": 0}}
    if path.endswith("/mechanism.json"):
        assert "CHEMBL941" in q["molecule_chembl_id__in"].split(",")  # the parent is always asked
        return 200, MECHANISMS
    if path.endswith("/target.json"):
        assert set(q["target_chembl_id__in"].split(",")) == {"CHEMBL2096618", "CHEMBL1936"}
        return 200, TARGETS
    return 404, {"error_message": "not found"}


def test_chembl_binds_and_direction(stub):
    server = stub(chembl_handler)
    v = ChemblVerifier(server.url + "/chembl/api/data")
    ok = v.verify(ctx("binds_to", actor="imatinib", target="c-KIT"))
    assert ok.verdict == "supported" and ok.evidence[0]["action_type"] == "INHIBITOR" and ok.evidence[0]["target_chembl_id"] == "CHEMBL1936"
    assert v.verify(ctx("binds_to", actor="Gleevec", target="ABL1")).verdict == "supported"
    other = v.verify(ctx("binds_to", actor="imatinib", target="EGFR"))
    assert other.verdict == "unverifiable" and "not a contradiction" in other.message
    down = v.verify(ctx("modulates_molecule_activity", target="ABL1", direction="down"))  # drug: the record's imatinib
    assert down.verdict == "supported"
    up = v.verify(ctx("modulates_molecule_activity", target="KIT", direction="up"))
    assert up.verdict == "contradicted" and up.score >= 0.5 and "inhibitor" in up.message
    unknown = v.verify(ctx("binds_to", actor="notadrug", target="ABL1"))
    assert unknown.verdict == "unverifiable" and "no curated mechanism" in unknown.message


def test_chembl_offline_is_unavailable():
    v = ChemblVerifier("https://www.ebi.ac.uk/chembl/api/data")
    off = v.verify(ctx("binds_to", actor="imatinib", target="ABL1"))
    assert off.verdict == "unverifiable" and "OFFLINE=true" in off.message


def test_network_verifiers_join_the_default_set_only_when_reachable(stub, monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.verify.runner import default_verifier_names
    names = default_verifier_names()
    assert "go" in names and "record" in names and "indra" not in names and "chembl" not in names  # offline
    server = stub(indra_handler)
    monkeypatch.setenv("OFFLINE", "false")
    monkeypatch.setenv("INDRA_URL", server.url)
    monkeypatch.setenv("CHEMBL_URL", "http://127.0.0.1:9/chembl/api/data")  # nothing listens on the discard port
    get_settings.cache_clear()
    names = default_verifier_names()
    assert "indra" in names and "chembl" not in names
