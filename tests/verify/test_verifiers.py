"""Each verifier on data the tests build: supported, contradicted and unverifiable."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from vcr_core.formalism import Explanation, Node, parse_text
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.entity import EntityVerifier
from vcr_core.verify.kg import KgVerifier
from vcr_core.verify.literature import LiteratureVerifier
from vcr_core.verify.phenotype import PhenotypeData, PhenotypeVerifier, load_hpo
from vcr_core.verify.structural import verify_structure

RECORD = parse_records([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}])[0][0]
# A record without a cell context: claims at the level of patients (where HPO annotations apply).
PATIENT = parse_records([{"index": 2, "context": {"disease": "epilepsy"}, "perturbation": {"name": "SCN1A variant"}}])[0][0]


def ctx(action, record=RECORD, **args):
    node = Node(id="n1", action=action, args=args)
    return ClaimContext(node=node, explanation=Explanation(nodes=[node]), record=record, batch_id=1)


# ------------------------------------------------------------------ structural
@dataclass
class M:
    index: int
    name: str
    type: str
    source: str = "test"
    method: str = "exact"
    score: float = 1.0


# ------------------------------------------------------------------ entity
VOCAB = {"imatinib": ("Chemical", "CHEBI", "CHEBI:45783"), "abl1": ("Gene", "HGNC", "HGNC:76"),
         "myc": ("Gene", "HGNC", "HGNC:7553"), "apoptosis": ("Disease", "MESH", "D017209"), "leukemia": ("Disease", "MESH", "D007938")}


def fake_ground(name, type_=None):
    hit = VOCAB.get(name.lower())
    if not hit:
        return None
    return {"canonical": name, "type": hit[0], "namespace": hit[1], "identifier": hit[2]}


def fake_lookup(name, types=None, k=5):
    if name.lower().startswith("imatinb"):
        return [M(0, "imatinib", "drug", method="approximate", score=0.9)]
    return []


def test_entity_supported_contradicted_unverifiable():
    v = EntityVerifier(grounder=fake_ground, kg_lookup=fake_lookup, genes=None, aliases=None)
    ok = v.verify(ctx("binds_to", actor="imatinib", target="ABL1"))
    assert ok.verdict == "supported" and ok.evidence[0]["grounding"]["identifier"] == "CHEBI:45783"
    bad = v.verify(ctx("regulates_expression", regulator="ABL1", gene_list=["MYC", "leukemia"], direction="down"))
    assert bad.verdict == "contradicted" and "leukemia" in bad.message
    unknown = v.verify(ctx("binds_to", actor="imatinb", target="ABL1"))
    assert unknown.verdict == "unverifiable" and "imatinb" in unknown.message
    assert unknown.evidence[0]["candidates"][0]["name"] == "imatinib"  # reported with its candidates


# ------------------------------------------------------------------ knowledge graph
NODES = {"imatinib": M(0, "imatinib", "drug"), "abl1": M(1, "ABL1", "gene/protein"), "dasatinib": M(2, "dasatinib", "drug"),
         "kidney failure": M(3, "kidney failure", "effect/phenotype"), "src": M(4, "SRC", "gene/protein")}
EDGES = {(0, 1): [{"relation": "drug_protein", "display_relation": "target", "source": "DrugBank"}],
         (2, 3): [{"relation": "contraindication", "display_relation": "contraindication", "source": "DrugBank"}]}


def kg_lookup(name, types=None, k=5):
    return [NODES[name.lower()]] if name.lower() in NODES else []


def kg_edges(i, j):
    return EDGES.get((i, j), []) + EDGES.get((j, i), [])


def test_kg_supported_contradicted_unverifiable():
    v = KgVerifier(lookup=kg_lookup, edges_between=kg_edges, graph_label="test graph")
    sup = v.verify(ctx("binds_to", actor="imatinib", target="ABL1"))
    assert sup.verdict == "supported" and sup.evidence[0]["relation"] == "target" and sup.evidence[0]["graph"] == "test graph"
    con = v.verify(ctx("alleviates_phenotype", actor="dasatinib", phenotype="kidney failure"))
    assert con.verdict == "contradicted" and "contraindication" in con.message
    none = v.verify(ctx("binds_to", actor="imatinib", target="SRC"))
    assert none.verdict == "unverifiable" and "absence alone never contradicts" in none.message
    missing = v.verify(ctx("binds_to", actor="imatinib", target="NOTAGENE"))
    assert missing.verdict == "unverifiable" and "NOTAGENE" in missing.message
    assert not v.applies(Node(id="x", action="modulates_pathway_activity", args={"pathway": "MAPK", "direction": "up"}))


def test_kg_without_a_graph_says_why(monkeypatch):
    v = KgVerifier(lookup=None, edges_between=None)
    if v.problem is None:  # a graph is installed: simulate its absence
        v.problem = "the knowledge graph is not available (test)"
    out = v.verify(ctx("binds_to", actor="imatinib", target="ABL1"))
    assert out.verdict == "unverifiable" and "not available" in out.message


# ------------------------------------------------------------------ literature
@dataclass
class P:
    pmid: str
    title: str
    abstract: str


ABSTRACTS = [P("111", "Imatinib in CML", "Background text. Imatinib binds ABL1 and blocks its kinase activity. Other text."),
             P("222", "Resistance", "Some cells resist. ABL1 mutations reduce imatinib binding in resistant clones.")]


def test_literature_cooccurrence_without_model():
    v = LiteratureVerifier(search=lambda q, k: ABSTRACTS, judge=None)
    out = v.verify(ctx("binds_to", actor="imatinib", target="ABL1"))
    assert out.verdict == "supported" and out.score <= 0.4
    assert {e["pmid"] for e in out.evidence} == {"111", "222"}
    nothing = LiteratureVerifier(search=lambda q, k: [P("3", "t", "Nothing relevant here.")], judge=None)
    assert nothing.verify(ctx("binds_to", actor="imatinib", target="ABL1")).verdict == "unverifiable"


def _judge_via_server(srv):
    from vcr_core.llm import complete, resolve_model
    choice = resolve_model(model="scripted", api_base=srv.base_url)
    return lambda prompt: complete([{"role": "user", "content": prompt}], model_choice=choice, purpose="judge", max_retries=0).text


def test_literature_judge_through_local_server():
    from vcr_core.llm.testing import Reply, ScriptedServer
    supports = json.dumps({"verdict": "supports", "citations": [{"pmid": "111", "sentence": "Imatinib binds ABL1 and blocks its kinase activity."}]})
    fabricated = json.dumps({"verdict": "supports", "citations": [{"pmid": "111", "sentence": "Imatinib is the best drug ever."}]})
    contradicts = json.dumps({"verdict": "contradicts", "citations": [{"pmid": "222", "sentence": "ABL1 mutations reduce imatinib binding in resistant clones."}]})
    with ScriptedServer(queue=[Reply(supports), Reply(fabricated), Reply(contradicts)]) as srv:
        v = LiteratureVerifier(search=lambda q, k: ABSTRACTS, judge=_judge_via_server(srv))
        c = ctx("binds_to", actor="imatinib", target="ABL1")
        first = v.verify(c)
        assert first.verdict == "supported" and first.score >= 0.5 and first.evidence[0]["cited_by"] == "judge"
        second = v.verify(c)
        assert second.verdict == "unverifiable" and "rejected" in second.message
        assert any(e["kind"] == "rejected_citation" for e in second.evidence)
        third = v.verify(c)
        assert third.verdict == "contradicted" and third.evidence[0]["pmid"] == "222"
        assert "Imatinib binds ABL1" in srv.requests[0].body["messages"][0]["content"]


def test_literature_search_failure_is_unverifiable():
    def broken(q, k):
        raise RuntimeError("no network")
    out = LiteratureVerifier(search=broken, judge=None).verify(ctx("binds_to", actor="imatinib", target="ABL1"))
    assert out.verdict == "unverifiable" and "no network" in out.message


# ------------------------------------------------------------------ phenotype
def small_hpo() -> PhenotypeData:
    return PhenotypeData(names={"HP:1": "Seizure", "HP:2": "Focal seizure", "HP:3": "Tremor"},
                         lookup={"seizure": "HP:1", "seizures": "HP:1", "epileptic seizure": "HP:1", "focal seizure": "HP:2", "tremor": "HP:3"},
                         parents={"HP:2": ["HP:1"]}, gene_terms={"SCN1A": {"HP:2"}},
                         disease_terms={"dravet syndrome": {"HP:2": "", "HP:3": "NOT"}})


def test_phenotype_supported_contradicted_unverifiable():
    v = PhenotypeVerifier(small_hpo())
    sup = v.verify(ctx("induces_phenotype", record=PATIENT, source="SCN1A", phenotype="epileptic seizure"))  # synonym + descendant
    assert sup.verdict == "supported" and sup.evidence[1]["id"] == "HP:2"
    con = v.verify(ctx("induces_phenotype", source="Dravet syndrome", phenotype="tremor"))
    assert con.verdict == "contradicted" and con.evidence[1]["qualifier"] == "NOT"
    unk = v.verify(ctx("induces_phenotype", record=PATIENT, source="SCN1A", phenotype="glowing skin"))
    assert unk.verdict == "unverifiable" and "not an HPO phenotype" in unk.message
    alle = v.verify(ctx("alleviates_phenotype", actor="valproate", phenotype="seizure"))
    assert alle.verdict == "unverifiable" and alle.evidence[0]["id"] == "HP:1"


@pytest.mark.slow
def test_phenotype_on_installed_hpo_data():
    data = load_hpo()
    assert len(data.names) > 10000 and data.term("Seizure")
    out = PhenotypeVerifier(data).verify(ctx("induces_phenotype", record=PATIENT, source="SCN1A", phenotype="Seizure"))
    assert out.verdict == "supported"


# ------------------------------------------------------------------ structural
def test_structural_verdicts():
    good = parse_text('<explain>\nset_context(cell_type="K562")\nbinds_to(id="n1", actor="a", target="b")\n'
                      'induces_phenotype(id="n2", source="a", phenotype="death")\n</explain>\n<dag>\nedge("n1","n2")\n</dag>')
    assert verify_structure(good.explanation).verdict == "supported"
    cyc = parse_text('<explain>\nset_context(cell_type="K562")\nbinds_to(id="n1", actor="a", target="b")\n'
                     'induces_phenotype(id="n2", source="a", phenotype="death")\n</explain>\n<dag>\nedge("n1","n2")\nedge("n2","n1")\n</dag>')
    bad = verify_structure(cyc.explanation)
    assert bad.verdict == "contradicted" and any(f["code"] == "cycle" for f in bad.evidence)
    assert verify_structure(None).verdict == "contradicted"
