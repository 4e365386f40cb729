"""Typed evidence: one model per kind, a generic fallback, plain-text render data, an export form."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from vcr_core.verify.base import ClaimVerdict
from vcr_core.verify.evidence import (BY_KIND, MODELS, Evidence, GenericEvidence, PmidSentence, export_evidence,
                                      parse_all, parse_evidence)

HOSTILE = "[click](https://evil.example/x) <img src=x onerror=alert(1)> **bold**"
# One item of every kind, in the shape the verifiers store (hostile text wherever a model, an upload or
# a remote source may have written it).
SAMPLES = {
    "pmid_sentence": {"kind": "pmid_sentence", "pmid": "12345", "sentence": HOSTILE, "title": HOSTILE},
    "rejected_citation": {"kind": "rejected_citation", "pmid": "99", "sentence": HOSTILE, "reason": "not found verbatim"},
    "kg_edge": {"kind": "kg_edge", "source": "imatinib", "target": HOSTILE, "relation": "target", "graph": "PrimeKG",
                "edge_source": "DrugBank"},
    "kg_edge_skipped": {"kind": "kg_edge_skipped", "source": "A", "target": "B", "relation": "phenotype present",
                        "graph": "PrimeKG", "edge_source": "HPO", "note": "an HPO annotation"},
    "kg_pairs_checked": {"kind": "kg_pairs_checked", "pairs": ["imatinib - ABL1"], "graph": "PrimeKG"},
    "sources_consulted": {"kind": "sources_consulted", "verifier": "kg", "version": "2", "sources": ["PrimeKG"]},
    "expression": {"kind": "expression", "gene": "MYC", "log2fc": -1.5, "padj": 0.001, "context": "K562", "call": "as claimed"},
    "ontology_term": {"kind": "ontology_term", "id": "HP:0001250", "name": "Seizure",
                      "url": "https://evil.example/", "source": "HPO 2024"},
    "hpo_gene_phenotype": {"kind": "hpo_gene_phenotype", "gene": "SCN1A", "id": "HP:0001250", "name": "Seizure",
                           "source": "HPO", "level": "inherited human disease"},
    "hpo_disease_phenotype": {"kind": "hpo_disease_phenotype", "disease": HOSTILE, "id": "HP:0001250", "qualifier": "NOT",
                              "source": "HPO", "level": "the disease's clinical phenotype"},
    "level_mismatch": {"kind": "level_mismatch", "claim_level": "cell (K562)", "annotation_level": "inherited human disease"},
    "go_annotation": {"kind": "go_annotation", "gene": "ABL1", "go_id": "GO:0004713", "term": "protein tyrosine kinase activity",
                      "aspect": "MF", "evidence_code": "IDA", "evidence_kind": "experimental", "how": "exact", "source": "GO"},
    "go_lookup": {"kind": "go_lookup", "genes": ["ABL1"], "terms": ["GO:0005634"], "annotated_elsewhere": ["cytosol"],
                  "source": "GO"},
    "record_field": {"kind": "record_field", "record": "1", "perturbation": "imatinib", "field": "target",
                     "value": ["ABL1"], "matched": "ABL1", "how": "same gene", "moa_type": "inhibitor",
                     "expected_direction": "down", "perturbation type": "CRISPR"},
    "drug_target_list": {"kind": "drug_target_list", "drug": "trametinib", "sources": ["record t2 'known targets'"],
                         "checked_against": "MAP2K1, MAP2K2 (record t2 'known targets')", "claimed": HOSTILE,
                         "ungrounded": [HOSTILE], "closed_world": True},
    "indra_statement": {"kind": "indra_statement", "type": "Inhibition", "subject": "imatinib", "object": "ABL1",
                        "evidence_count": 12, "belief": 0.98, "pmids": ["111", "1](https://evil.example"], "hash": "-123",
                        "sign": "down", "query": "subject=a&object=b", "source": "INDRA DB"},
    "chembl_mechanism": {"kind": "chembl_mechanism", "molecule": "CHEMBL941", "action_type": "INHIBITOR",
                         "mechanism_of_action": HOSTILE, "target_chembl_id": "CHEMBL1862", "target_name": "ABL1",
                         "genes": ["ABL1"], "refs": [{"type": "PubMed", "id": "1", "url": "https://evil.example/"}],
                         "source": "ChEMBL"},
    "falsification": {"kind": "falsification", "verdict": "falsified", "reason": HOSTILE},
    "falsification_overall": {"kind": "falsification_overall", "overall": "survived"},
    "entity_grounding": {"kind": "entity_grounding", "argument": "target", "name": HOSTILE, "kinds": ["gene"],
                         "grounding": None, "candidates": [], "status": "made up", "nearest": ["ABL1"]},
    "structural_finding": {"kind": "structural_finding", "code": "cycle", "severity": "error", "line": 3, "message": HOSTILE},
    "curation": {"kind": "curation", "curation_id": 7, "curator": HOSTILE, "trace_id": 12, "claim_id": 40,
                 "judgment": "override", "verdict": "contradicted", "scope": "perturbation", "scope_reason": HOSTILE,
                 "at": "2026-12-07 10:00:00"},
    "stored_grounding": {"kind": "stored_grounding", "entities": [
        {"argument": "target", "name": HOSTILE, "namespace": "HGNC", "identifier": "HGNC:6307", "canonical": "KDR",
         "method": "curator (checked against HGNC entries)", "curator": "ana"},
        {"argument": "process", "name": "apoptosis", "namespace": "GO", "identifier": "GO:0006915", "method": "GO id"}]},
    "by_construction": {"kind": "by_construction", "source": "the record", "verifier": "record", "found": "supported",
                        "message": HOSTILE},
}
ALLOWED = re.compile(r"^https://(pubmed\.ncbi\.nlm\.nih\.gov/\d+/|hpo\.jax\.org/browse/term/HP:\d{7}"
                     r"|amigo\.geneontology\.org/amigo/term/GO:\d{7}|www\.ebi\.ac\.uk/chembl/explore/compound/CHEMBL\d+)$")


def test_every_kind_has_a_sample_and_the_review_kinds_are_known():
    assert set(SAMPLES) == set(BY_KIND) and len(MODELS) == len(BY_KIND)
    assert {"pmid_sentence", "kg_edge", "expression", "ontology_term", "hpo_gene_phenotype", "hpo_disease_phenotype",
            "go_annotation", "record_field", "indra_statement", "chembl_mechanism", "kg_pairs_checked", "falsification",
            "rejected_citation"} <= set(BY_KIND)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_kind_validates_into_its_model_and_stores_back_unchanged(kind):
    item = parse_evidence(SAMPLES[kind], strict=True)
    assert type(item) is BY_KIND[kind]
    assert item.store() == SAMPLES[kind]


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_render_data_is_plain_text_and_links_are_built_from_validated_ids(kind):
    shown = parse_evidence(SAMPLES[kind]).render()
    assert shown.text and "\n" not in shown.text
    for link in shown.links:
        assert ALLOWED.match(link.url), link.url
        assert "evil" not in link.url and "](" not in link.label
    exported = parse_evidence(SAMPLES[kind]).export_dict()
    assert exported["summary"] == shown.text and {k: v for k, v in exported.items() if k not in ("summary", "links")} == SAMPLES[kind]
    assert exported.get("links", []) == [link.url for link in shown.links]


def test_links_only_from_ids_of_the_right_shape():
    assert [link.url for link in parse_evidence(SAMPLES["indra_statement"]).links() if link] == ["https://pubmed.ncbi.nlm.nih.gov/111/"]
    assert parse_evidence({"kind": "pmid_sentence", "pmid": "12](https://evil.example)", "sentence": "s"}).render().links == ()
    assert parse_evidence(SAMPLES["ontology_term"]).render().links[0].url == "https://hpo.jax.org/browse/term/HP:0001250"


def test_unknown_kind_and_misfitting_rows_fall_back_to_generic():
    old = {"kind": "from_a_newer_verifier", "score": 3, "note": HOSTILE}
    item = parse_evidence(old)
    assert type(item) is GenericEvidence and item.store() == old and item.render().links == ()
    assert "from_a_newer_verifier" in item.summary() and "score=3" in item.summary()
    broken = {"kind": "pmid_sentence", "sentence": "no pmid"}
    assert type(parse_evidence(broken)) is GenericEvidence and parse_evidence(broken).store() == broken
    with pytest.raises(ValueError):
        parse_evidence(broken, strict=True)
    assert [type(e) for e in parse_all([old, "a bare string", None])] == [GenericEvidence] * 3
    assert parse_all(None) == []


def test_rows_stored_before_they_had_a_kind_are_recognised():
    entity_row = {"argument": "target", "name": "ABL1", "kinds": ["gene"], "grounding": {"identifier": "HGNC:76"},
                  "candidates": [], "status": "ok"}
    finding = {"code": "cycle", "severity": "error", "line": 4, "message": "the edges form a cycle"}
    assert type(parse_evidence(entity_row)).__name__ == "EntityGrounding"
    assert type(parse_evidence(finding)).__name__ == "StructuralFinding"
    assert "line 4" in parse_evidence(finding).summary()


def test_claim_verdict_stores_models_as_dicts():
    cv = ClaimVerdict("supported", 0.5, [PmidSentence(pmid="7", sentence="s"), {"kind": "x"}])
    assert cv.evidence == [{"kind": "pmid_sentence", "pmid": "7", "sentence": "s"}, {"kind": "x"}]
    assert all(isinstance(e, dict) for e in cv.evidence)
    assert export_evidence(cv.evidence)[0]["links"] == ["https://pubmed.ncbi.nlm.nih.gov/7/"]


def test_verifiers_build_evidence_through_the_models():
    """No verifier writes an evidence dict literal with a kind: they construct the models."""
    root = Path(__file__).resolve().parents[2] / "vcr_core" / "verify"
    offenders = [f"{p.name}:{i}" for p in root.glob("*.py") if p.name != "evidence.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"""["']kind["']\s*:\s*["']""", line)]
    assert offenders == []
    assert all(issubclass(m, Evidence) for m in MODELS)


def test_the_autouse_check_rejects_a_malformed_item_of_a_known_kind():
    """tests/verify and tests/knowledge check every verdict a verifier makes (conftest); this shows the check is live."""
    with pytest.raises(ValueError):
        ClaimVerdict("supported", 0.5, [{"kind": "expression", "log2fc": "not a number"}])
    ClaimVerdict("supported", 0.5, [{"kind": "a_kind_only_a_plugin_knows"}])  # unknown kinds are the fallback's
