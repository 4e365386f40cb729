"""The GO verifier on a tiny org.Hs.eg.db: process/function and localisation rules, never a contradiction."""
from __future__ import annotations

import pytest

from vcr_core.formalism import Explanation, Node
from vcr_core.knowledge.orgdb import OrgDb, reset_orgdb
from vcr_core.knowledge.testing import go_terms_for_tests, make_test_orgdb
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.go import GoVerifier

RECORD = parse_records([{"index": 1, "context": {"cell_type": "HCT116"}, "perturbation": {"name": "nutlin-3"}}])[0][0]


def ctx(action, **args):
    node = Node(id="n1", action=action, args=args)
    return ClaimContext(node=node, explanation=Explanation(nodes=[node]), record=RECORD, batch_id=1)


@pytest.fixture
def verifier(tmp_path):
    return GoVerifier(OrgDb(make_test_orgdb(tmp_path / "org.sqlite"), terms=go_terms_for_tests()))


def test_participates_by_go_id_with_evidence_code(verifier):
    v = verifier.verify(ctx("participates_in", entity="TP53", ontology_id="GO:0006915"))
    assert v.verdict == "supported" and v.score == pytest.approx(0.9)
    ev = v.evidence[0]
    assert (ev["go_id"], ev["term"], ev["aspect"], ev["evidence_code"]) == ("GO:0006915", "apoptotic process", "BP", "IDA")
    assert "org.Hs.eg.db" in ev["source"] and "GO 2022-07-01" in ev["source"]
    assert "[BP, IDA]" in v.message
    assert verifier.verify(ctx("participates_in", entity="TP53", ontology_id="GO:0006915 (apoptosis)")).verdict == "supported"


def test_participates_by_name_synonym_alias_and_family(verifier):
    assert verifier.verify(ctx("participates_in", entity="p53", ontology_id="apoptosis")).verdict == "supported"
    v = verifier.verify(ctx("participates_in", entity="ABL1", ontology_id="protein tyrosine kinase activity"))
    assert v.verdict == "supported" and v.evidence[0]["aspect"] == "MF"
    fam = verifier.verify(ctx("participates_in", entity="ERK1/2", ontology_id="MAPK cascade"))
    assert fam.verdict == "supported" and fam.evidence[0]["gene"] == "MAPK1" and fam.score < 0.9  # through a member


def test_participates_never_contradicts_from_absence(verifier):
    v = verifier.verify(ctx("participates_in", entity="KDR", ontology_id="apoptotic process"))
    assert v.verdict == "unverifiable" and "never contradicts" in v.message
    other = verifier.verify(ctx("participates_in", entity="TP53", ontology_id="hsa04115"))
    assert other.verdict == "unverifiable"
    kegg = verifier.verify(ctx("participates_in", entity="TP53", ontology_id="KEGG:hsa04115"))
    assert kegg.verdict == "unverifiable" and "not a GO id" in kegg.message
    made_up = verifier.verify(ctx("participates_in", entity="FOOBAR7", ontology_id="GO:0006915"))
    assert made_up.verdict == "unverifiable"
    nd = verifier.verify(ctx("participates_in", entity="ABL1", ontology_id="GO:0008150"))
    assert nd.verdict == "unverifiable"  # an ND annotation is not evidence


def test_localises_to_component_and_parts(verifier):
    v = verifier.verify(ctx("localises_to", entity="RELA", to_loc="nucleus"))
    assert v.verdict == "supported" and v.evidence[0]["go_id"] == "GO:0005634" and v.evidence[0]["evidence_code"] == "IDA"
    same = verifier.verify(ctx("localises_to", entity="RELA", from_loc="nucleus", to_loc="nucleus"))
    assert same.verdict == "supported" and any(e.get("role") == "from_loc" for e in same.evidence)
    part = verifier.verify(ctx("localises_to", entity="HDAC1", to_loc="nuclear"))
    assert part.verdict == "supported" and "descendant" in part.evidence[0]["how"]  # HDAC complex is part of the nucleus
    iea = verifier.verify(ctx("localises_to", entity="beta-catenin", to_loc="plasma membrane"))
    assert iea.verdict == "supported" and iea.score == pytest.approx(0.7)


def test_a_move_is_not_supported_by_directionless_annotations(verifier):
    """ABL1 is annotated to both mitochondrion and cytoplasm: neither direction of a move follows from that."""
    there = verifier.verify(ctx("localises_to", entity="ABL1", from_loc="mitochondrion", to_loc="cytoplasm"))
    back = verifier.verify(ctx("localises_to", entity="ABL1", from_loc="cytoplasm", to_loc="mitochondrion"))
    for v in (there, back):
        assert v.verdict == "unverifiable" and "not which way it moves" in v.message
    assert "cytoplasm (annotated); mitochondrion (annotated)" in there.message
    assert there.evidence and there.evidence[0]["go_id"] == "GO:0005737"  # what it did find is still shown


def test_localises_elsewhere_is_unverifiable_not_contradicted(verifier):
    rich = verifier.verify(ctx("localises_to", entity="ABL1", from_loc="cytoplasm", to_loc="GO:0000118"))
    assert rich.verdict == "unverifiable" and rich.message.startswith("annotated elsewhere:")
    assert "mitochondrion" in rich.evidence[0]["annotated_elsewhere"]
    poor = verifier.verify(ctx("localises_to", entity="KDR", from_loc="cytoplasm", to_loc="nucleus"))
    assert poor.verdict == "unverifiable" and "absence never contradicts" in poor.message
    nowhere = verifier.verify(ctx("localises_to", entity="TP53", from_loc="cytoplasm", to_loc="the moon"))
    assert nowhere.verdict == "unverifiable" and "not a GO cellular component" in nowhere.message


def test_missing_file_is_unavailable_with_reason(tmp_path, monkeypatch):
    from vcr_core.kernel.settings import get_settings
    monkeypatch.setenv("ORGDB_PATH", str(tmp_path / "missing.sqlite"))
    get_settings.cache_clear()
    reset_orgdb()
    v = GoVerifier().verify(ctx("participates_in", entity="TP53", ontology_id="GO:0006915"))
    assert v.verdict == "unverifiable" and v.message.startswith("GO annotations unavailable") and "bootstrap" in v.message


def test_real_file_when_present():
    from vcr_core.knowledge.orgdb import get_orgdb
    reset_orgdb()
    db = get_orgdb()
    if db is None:
        pytest.skip("the real org.Hs.eg.sqlite is not installed; `bash .ci/bootstrap setup` extracts it")
    v = GoVerifier(db)
    assert v.verify(ctx("participates_in", entity="TP53", ontology_id="GO:0006915")).verdict == "supported"
    assert v.verify(ctx("participates_in", entity="KDR", ontology_id="angiogenesis")).verdict == "supported"
    assert v.verify(ctx("localises_to", entity="RELA", to_loc="nucleus")).verdict == "supported"
    assert v.verify(ctx("localises_to", entity="HDAC1", to_loc="GO:0000118")).verdict == "supported"
    flipped = v.verify(ctx("localises_to", entity="BAX", from_loc="mitochondrion", to_loc="cytosol"))
    assert flipped.verdict == "unverifiable"  # BAX goes cytosol -> mitochondria in apoptosis; GO cannot tell
    reset_orgdb()


def test_runner_registers_go_and_record(engine, tmp_path, monkeypatch):
    import json as _json

    from vcr_core.files.ingest import ingest_file
    from vcr_core.knowledge.testing import use_test_orgdb
    from vcr_core.verify import verify_traces
    from vcr_core.verify.testing import add_trace
    use_test_orgdb(monkeypatch, tmp_path)
    path = tmp_path / "records.json"
    path.write_text(_json.dumps([{"index": 1, "context": {"cell_type": "K562"},
                                  "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"],
                                                   "moa_type": "tyrosine kinase inhibitor"}}]))
    batch = ingest_file(engine, path).batch_id
    text = '''<answer>x</answer>
<explain>
set_context(cell_type="K562")
binds_to(id="n1", actor="imatinib", target="c-ABL")
modulates_molecule_activity(id="n2", target="ABL1", direction="up", via="n1")
participates_in(id="n3", entity="TP53", ontology_id="GO:0006915")
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n2", "n3", relation="causal")
</dag>'''
    trace = add_trace(engine, batch, text)
    summary = verify_traces(engine, [trace], ["go", "record"])
    assert summary["by_verifier"]["record"] == {"supported": 1, "contradicted": 1}
    assert summary["by_verifier"]["go"] == {"supported": 1}
    reset_orgdb()
