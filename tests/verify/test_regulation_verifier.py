"""The regulation verifier: regulates_expression and degrades_or_stabilises judged by the regulator's direction (read
along the graph, or from the record when the perturbation causes the claim) times what GO says the regulator does
(a tiny GO.sqlite and org.Hs.eg.db with real ids, names and relations the test adds). Nothing from absence."""
from __future__ import annotations

import pytest

from vcr_core.formalism.parser import parse_text
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.regulation import RegulationVerifier, claim_direction

# Real GO ids, names and relations (GO 2022-07-01), only what the rules read.
TERMS = [
    ("GO:0003700", "DNA-binding transcription factor activity", "MF", ()),
    ("GO:0001216", "DNA-binding transcription activator activity", "MF", ()),
    ("GO:0001228", "DNA-binding transcription activator activity, RNA polymerase II-specific", "MF", ()),
    ("GO:0001217", "DNA-binding transcription repressor activity", "MF", ()),
    ("GO:0001227", "DNA-binding transcription repressor activity, RNA polymerase II-specific", "MF", ()),
    ("GO:0003712", "transcription coregulator activity", "MF", ()),
    ("GO:0003713", "transcription coactivator activity", "MF", ()),
    ("GO:0003714", "transcription corepressor activity", "MF", ()),
    ("GO:0030163", "protein catabolic process", "BP", ()),
    ("GO:0006511", "ubiquitin-dependent protein catabolic process", "BP", ()),
    ("GO:0043161", "proteasome-mediated ubiquitin-dependent protein catabolic process", "BP", ()),
    ("GO:0050821", "protein stabilization", "BP", ()),
    ("GO:0016301", "kinase activity", "MF", ()),
    ("GO:0004672", "protein kinase activity", "MF", ()),
    ("GO:0004713", "protein tyrosine kinase activity", "MF", ()),
    ("GO:0004721", "phosphoprotein phosphatase activity", "MF", ()),
    ("GO:0004714", "transmembrane receptor protein tyrosine kinase activity", "MF", ()),
]
RELATIONS = [
    ("GO:0001216", "GO:0003700", "isa"), ("GO:0001228", "GO:0001216", "isa"),
    ("GO:0001217", "GO:0003700", "isa"), ("GO:0001227", "GO:0001217", "isa"),
    ("GO:0003713", "GO:0003712", "isa"), ("GO:0003714", "GO:0003712", "isa"),
    ("GO:0030163", "GO:0008150", "isa"), ("GO:0006511", "GO:0030163", "isa"), ("GO:0043161", "GO:0006511", "isa"),
    ("GO:0050821", "GO:0008150", "isa"),
    ("GO:0004672", "GO:0016301", "isa"), ("GO:0004713", "GO:0004672", "isa"), ("GO:0004714", "GO:0004713", "isa"),
]
GENES = [("4193", "MDM2", "MDM2 proto-oncogene", ["HDM2"], ["Q00987"]),
         ("7874", "USP7", "ubiquitin specific peptidase 7", ["HAUSP"], ["Q93009"]),
         ("5693", "PSMB5", "proteasome 20S subunit beta 5", ["X", "MB1"], ["P28074"]),
         ("2099", "ESR1", "estrogen receptor 1", ["ER", "ESR", "ERalpha"], ["P03372"]),
         ("5728", "PTEN", "phosphatase and tensin homolog", ["MMAC1"], ["P60484"])]
ANNOTATIONS = [
    ("1499", "MF", "GO:0003713", "IDA"),   # CTNNB1: transcription coactivator activity
    ("2099", "MF", "GO:0001228", "IDA"),   # ESR1: activator (RNA pol II-specific)
    ("2099", "MF", "GO:0001216", "IEA"),   # an electronic one never counts
    ("5970", "MF", "GO:0001228", "IDA"),   # RELA: activator ...
    ("5970", "MF", "GO:0001227", "IDA"),   # ... and repressor: decides nothing
    ("5594", "BP", "GO:0043161", "IDA"),   # ERK2: no transcription-regulator function at all
    ("4193", "BP", "GO:0006511", "IDA"),   # MDM2 drives ubiquitin-dependent protein catabolism
    ("7874", "BP", "GO:0050821", "IDA"),   # USP7: protein stabilization
    ("5693", "BP", "GO:0043161", "IC"),    # PSMB5: the proteasome's function, a curator's statement
    ("5594", "MF", "GO:0004672", "IDA"),   # ERK2 is a protein kinase (ABL1's tyrosine kinase activity is in the base file)
    ("5728", "MF", "GO:0004721", "IDA"),   # PTEN: phosphoprotein phosphatase activity
    ("3791", "MF", "GO:0004714", "IDA"),   # KDR: a receptor tyrosine kinase ...
    ("3791", "BP", "GO:0070374", "IMP"),   # ... that positively regulates the ERK1 and ERK2 cascade
    ("5594", "BP", "GO:0070371", "IDA"),   # ERK2 takes part in the ERK1 and ERK2 cascade
]


@pytest.fixture
def knowledge(monkeypatch, tmp_path):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.knowledge.orgdb import reset_orgdb
    from vcr_core.knowledge.testing import make_test_orgdb, use_test_go_ontology

    use_test_go_ontology(monkeypatch, tmp_path, TERMS, RELATIONS)
    monkeypatch.setenv("ORGDB_PATH", str(make_test_orgdb(tmp_path / "org.Hs.eg.sqlite", extra_annotations=ANNOTATIONS,
                                                         extra_genes=GENES)))
    get_settings.cache_clear()
    reset_orgdb()
    yield
    reset_orgdb()


TAMOXIFEN = {"index": 1, "context": {"cell_line": "MCF7"},
             "perturbation": {"type": "chemical", "name": "Tamoxifen", "target": "ESR1", "moa_type": "estrogen receptor antagonist"}}
CTNNB1_KO = {"index": 2, "context": {"cell_line": "HCT116"},
             "perturbation": {"type": "CRISPR knockout", "name": "CTNNB1 knockout", "target": "CTNNB1"}}
NUTLIN = {"index": 3, "context": {"cell_line": "MCF7"},
          "perturbation": {"type": "chemical", "name": "Nutlin-3a", "target": "MDM2", "moa_type": "MDM2 antagonist"}}
BORTEZOMIB = {"index": 4, "context": {"cell_line": "RPMI-8226"},
              "perturbation": {"type": "chemical", "name": "Bortezomib", "target": ["PSMB5"], "moa_type": "proteasome inhibitor"}}
DEGRADER = {"index": 5, "context": {"cell_line": "MCF7"},
            "perturbation": {"type": "chemical", "name": "Vepdegestrant", "target": "ESR1", "moa_type": "ER PROTAC degrader"}}
TNF = {"index": 6, "context": {"perturbation_type": "soluble factor", "description": "Soluble factor addition of TNF", "cell_line": "HeLa"},
       "perturbation": {"type": "chemical", "name": "Tamoxifen", "target": "ESR1", "moa_type": "estrogen receptor antagonist"}}


def verify(raw, explain, dag="", node="n9"):
    records, problems = parse_records([raw])
    assert not problems
    expl = parse_text(f"<explain>\n{explain}\n</explain>\n<dag>\n{dag}\n</dag>").explanation
    return RegulationVerifier().verify(ClaimContext(node=expl.node(node), explanation=expl, record=records[0]))


def edges(*pairs):
    return "\n".join(f'edge("{a}", "{b}", relation="causal")' for a, b in pairs)


def test_claim_directions():
    expl = parse_text('<explain>\ndegrades_or_stabilises(id="n1", regulator="X", target="TP53", direction="degrades")\n'
                      'degrades_or_stabilises(id="n2", regulator="X", target="TP53", direction="stabilises")\n'
                      'regulates_expression(id="n3", regulator="X", gene_list=["MYC"], direction="down")\n</explain>').explanation
    assert [claim_direction(expl.node(i)) for i in ("n1", "n2", "n3")] == ["down", "up", "down"]


def test_an_activator_going_down_lowers_its_genes(knowledge):
    chain = ('binds_to(id="n1", actor="tamoxifen", target="ESR1")\nmodulates_molecule_activity(id="n2", target="ERalpha", direction="down")\n')
    down = verify(TAMOXIFEN, chain + 'regulates_expression(id="n9", regulator="ESR1", gene_list=["PGR", "GREB1"], direction="down")',
                  edges(("n1", "n2"), ("n2", "n9")))
    assert down.verdict == "supported" and down.score == 0.6
    ev = [e for e in down.evidence if e["kind"] == "go_annotation"]
    assert ev and ev[0]["gene"] == "ESR1" and ev[0]["go_id"] == "GO:0001228" and ev[0]["evidence_code"] == "IDA"
    assert "n2: ERalpha activity down" in down.message
    up = verify(TAMOXIFEN, chain + 'regulates_expression(id="n9", regulator="ESR1", gene_list=["CCND1"], direction="up")',
                edges(("n1", "n2"), ("n2", "n9")))
    assert up.verdict == "contradicted" and 0.5 <= up.score < 0.6 and "inferred" in up.message


def test_the_record_gives_the_direction_when_the_graph_does_not(knowledge):
    # the perturbation is upstream (a root pathway claim of the knockout) but no claim states beta-catenin's own
    # change: the record's knockout of CTNNB1 does
    v = verify(CTNNB1_KO, 'modulates_pathway_activity(id="n1", pathway="Wnt signaling", direction="down")\n'
                          'regulates_expression(id="n9", regulator="beta-catenin", gene_list=["MYC"], direction="down")',
               edges(("n1", "n9")))
    assert v.verdict == "supported" and "knockout" in v.message, v.message
    # a root claim whose own actor is ESR1 names ESR1 as acting, not the drug: the MoA does not speak for it
    root = verify(TAMOXIFEN, 'regulates_expression(id="n9", regulator="ESR1", gene_list=["PGR"], direction="down")')
    assert root.verdict == "unverifiable" and "no direction" in root.message
    # the drug as the regulator stands for its listed targets with the MoA's direction
    drug = verify(TAMOXIFEN, 'regulates_expression(id="n9", regulator="tamoxifen", gene_list=["PGR"], direction="up")')
    assert drug.verdict == "contradicted" and "listed target" in drug.message
    # a coactivator knocked out (loss_of_function above it): its genes go down
    ko = verify(CTNNB1_KO, 'loss_of_function(id="n1", variant="CTNNB1 knockout", protein="beta-catenin")\n'
                           'regulates_expression(id="n9", regulator="beta-catenin", gene_list=["MYC"], direction="down")',
                edges(("n1", "n9")))
    assert ko.verdict == "supported" and "loss of function" in ko.message


def test_nothing_from_both_ways_no_function_or_no_direction(knowledge):
    # RELA is annotated as activator and repressor
    both = verify(TAMOXIFEN, 'localises_to(id="n1", entity="RELA", from_loc="cytoplasm", to_loc="nucleus")\n'
                             'regulates_expression(id="n9", regulator="RELA", gene_list=["NFKBIA"], direction="down")', edges(("n1", "n9")))
    assert both.verdict == "unverifiable" and "both" in both.message
    # a kinase is no transcription regulator of the listed genes, whatever its direction
    kinase = verify(TAMOXIFEN, 'modulates_molecule_activity(id="n1", target="ERK2", direction="down")\n'
                               'regulates_expression(id="n9", regulator="ERK2", gene_list=["BCL2L11"], direction="up")', edges(("n1", "n9")))
    assert kinase.verdict == "unverifiable" and "molecular-function" in kinase.message
    # no statement of the regulator's own change, and it is not the record's target: no direction
    none = verify(TAMOXIFEN, 'regulates_expression(id="n9", regulator="beta-catenin", gene_list=["MYC"], direction="down")')
    assert none.verdict == "unverifiable" and "no direction" in none.message
    # two statements at the same distance that disagree: no direction either
    split = verify(TAMOXIFEN, 'localises_to(id="n1", entity="beta-catenin", from_loc="cytoplasm", to_loc="nucleus")\n'
                              'localises_to(id="n2", entity="beta-catenin", from_loc="nucleus", to_loc="cytoplasm")\n'
                              'regulates_expression(id="n9", regulator="beta-catenin", gene_list=["MYC"], direction="up")',
                   edges(("n1", "n9"), ("n2", "n9")))
    assert split.verdict == "unverifiable"


def test_a_claim_caused_by_the_contexts_factor_does_not_follow_the_drug(knowledge):
    # the record's MoA speaks only for claims the perturbation causes: a root claim under TNF addition is undecided
    v = verify(TNF, 'regulates_expression(id="n9", regulator="ESR1", gene_list=["PGR"], direction="up")')
    assert v.verdict == "unverifiable"


def test_degradation_by_an_inhibited_ubiquitin_ligase_or_the_proteasome(knowledge):
    # MDM2 drives degradation; its antagonist stabilises its substrate
    up = verify(NUTLIN, 'binds_to(id="n1", actor="Nutlin-3a", target="MDM2")\n'
                        'degrades_or_stabilises(id="n9", regulator="MDM2", target="TP53", direction="up")', edges(("n1", "n9")))
    assert up.verdict == "supported" and "degradation" in up.message
    down = verify(NUTLIN, 'binds_to(id="n1", actor="Nutlin-3a", target="MDM2")\n'
                          'degrades_or_stabilises(id="n9", regulator="MDM2", target="TP53", direction="degrades")', edges(("n1", "n9")))
    assert down.verdict == "contradicted" and down.score == 0.55
    # a proteasome inhibitor (the drug as regulator: its listed subunit, a curator's IC statement) stabilises
    bort = verify(BORTEZOMIB, 'degrades_or_stabilises(id="n9", regulator="bortezomib", target="IkappaB-alpha", direction="up")')
    assert bort.verdict == "supported"
    assert any(e.get("evidence_code") == "IC" and e.get("gene") == "PSMB5" for e in bort.evidence)
    # a stabiliser going down lets its substrate be degraded
    usp7 = verify(NUTLIN, 'modulates_molecule_activity(id="n1", target="USP7", direction="down")\n'
                          'degrades_or_stabilises(id="n9", regulator="USP7", target="MDM2", direction="down")', edges(("n1", "n9")))
    assert usp7.verdict == "supported" and "stabiliser" in usp7.message
    # no catabolic annotation (ESR1): nothing decided
    none = verify(TAMOXIFEN, 'degrades_or_stabilises(id="n9", regulator="tamoxifen", target="TP53", direction="down")')
    assert none.verdict == "unverifiable"


def test_a_degrader_moa_degrades_its_listed_target(knowledge):
    ok = verify(DEGRADER, 'degrades_or_stabilises(id="n9", regulator="vepdegestrant", target="ESR1", direction="down")')
    assert ok.verdict == "supported" and any(e["kind"] == "record_field" for e in ok.evidence)
    flipped = verify(DEGRADER, 'degrades_or_stabilises(id="n9", regulator="vepdegestrant", target="ESR1", direction="up")')
    assert flipped.verdict == "contradicted"
    other = verify(DEGRADER, 'degrades_or_stabilises(id="n9", regulator="vepdegestrant", target="TP53", direction="down")')
    assert other.verdict == "unverifiable"


IMATINIB = {"index": 7, "context": {"cell_line": "K562"},
            "perturbation": {"type": "chemical", "name": "Imatinib", "target": "ABL1", "moa_type": "tyrosine kinase inhibitor"}}
PTEN_KO = {"index": 8, "context": {"cell_line": "MCF10A"}, "perturbation": {"type": "CRISPR knockout", "name": "PTEN knockout", "target": "PTEN"}}


def test_phosphorylation_follows_an_upstream_kinase_and_is_never_contradicted(knowledge):
    chain = 'binds_to(id="n1", actor="imatinib", target="ABL1")\n'
    down = verify(IMATINIB, chain + 'post_translational_modification(id="n9", protein="STAT5B", mod_type="phosphorylation", '
                                    'site="Y699", direction="down")', edges(("n1", "n9")))
    assert down.verdict == "supported" and down.score == 0.55 and "protein kinase" in down.message
    assert any(e.get("gene") == "ABL1" and e.get("go_id") == "GO:0004713" for e in down.evidence)
    up = verify(IMATINIB, chain + 'post_translational_modification(id="n9", protein="STAT5B", mod_type="phosphorylation", '
                                  'site="Y699", direction="up")', edges(("n1", "n9")))
    assert up.verdict == "unverifiable" and "not contradicted" in up.message
    # the record's target with its MoA when no gene-level claim is above it (the perturbation causes the claim)
    root = verify(IMATINIB, 'post_translational_modification(id="n9", protein="STAT5B", mod_type="phosphorylation", '
                            'site="Y699", direction="down")')
    assert root.verdict == "supported"
    # a kinase's own phosphorylation does not simply follow an upstream kinase (feedback in cascades)
    erk = verify(IMATINIB, chain + 'post_translational_modification(id="n9", protein="ERK2", mod_type="phosphorylation", '
                                   'site="T185", direction="down")', edges(("n1", "n9")))
    assert erk.verdict == "unverifiable" and "itself a protein kinase" in erk.message and "ABL1" in erk.message
    # ... but follows a receptor tyrosine kinase at the apex of its cascade (VEGFR2 blocked -> ERK2 phosphorylation down)
    lenvatinib = {"index": 9, "context": {"cell_type": "HUVEC"},
                  "perturbation": {"type": "chemical", "name": "Lenvatinib", "target": "VEGFR2", "moa_type": "inhibitor"}}
    rtk = verify(lenvatinib, 'binds_to(id="n1", actor="lenvatinib", target="VEGFR2")\n'
                             'post_translational_modification(id="n9", protein="ERK2", mod_type="phosphorylation", site="T185", '
                             'direction="down")', edges(("n1", "n9")))
    assert rtk.verdict == "supported" and rtk.score == 0.55
    # a kinase outside the receptor's cascades (no shared signalling process in GO) does not follow it
    other = verify(lenvatinib, 'binds_to(id="n1", actor="lenvatinib", target="VEGFR2")\n'
                               'post_translational_modification(id="n9", protein="ABL1", mod_type="phosphorylation", site="Y412", '
                               'direction="down")', edges(("n1", "n9")))
    assert other.verdict == "unverifiable" and "VEGFR2: not such a receptor" in other.message
    # a phosphatase lost: its substrates' phosphorylation goes up
    pten = verify(PTEN_KO, 'loss_of_function(id="n1", variant="PTEN knockout", protein="PTEN")\n'
                           'post_translational_modification(id="n9", protein="FOXO3", mod_type="phosphorylation", site="T32", '
                           'direction="up")', edges(("n1", "n9")))
    assert pten.verdict == "supported" and "phosphatase" in pten.message
    # a cell line in the protein slot is no protein ("PC-9" is not a fusion of PC)
    cell = verify(IMATINIB, chain + 'post_translational_modification(id="n9", protein="PC-9", mod_type="phosphorylation", '
                                    'site="Y1068", direction="down")', edges(("n1", "n9")))
    assert cell.verdict == "unverifiable"
    # no kinase or phosphatase above it: nothing
    none = verify(TAMOXIFEN, 'binds_to(id="n1", actor="tamoxifen", target="ESR1")\n'
                             'post_translational_modification(id="n9", protein="STAT5B", mod_type="phosphorylation", '
                             'site="Y699", direction="down")', edges(("n1", "n9")))
    assert none.verdict == "unverifiable"


def test_registered_and_graph_scoped():
    from vcr_core.verify.base import verifier_class

    assert verifier_class("regulation") is RegulationVerifier and RegulationVerifier.graph_scoped
