"""The entity verifier grounds each name once per trace and gives the same verdicts as without the memo."""
from __future__ import annotations

from vcr_core.formalism import Explanation, Node
from vcr_core.records import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.entity import EntityVerifier

RECORD = parse_records([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}])[0][0]
VOCAB = {"imatinib": ("CHEBI:45783", "chemical"), "abl1": ("HGNC:76", "gene"), "myc": ("HGNC:7553", "gene")}


class Counted:
    """A vocabulary grounder and a graph lookup that count how often each name is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def ground(self, name, _type=None):
        self.asked.append(name)
        hit = VOCAB.get(name.lower())
        return {"canonical": name, "type": hit[1], "namespace": hit[0].split(":")[0], "identifier": hit[0]} if hit else None

    def lookup(self, name, types=None, k=5):
        self.asked.append("kg:" + name)
        return [{"name": "leukemia", "type": "disease", "source": "MONDO", "method": "exact", "score": 1.0}] if name == "leukemia" else []


def _ctx(trace_id, action, **args):
    node = Node(id="n1", action=action, args=args)
    return ClaimContext(node=node, explanation=Explanation(nodes=[node]), record=RECORD, batch_id=1, trace_id=trace_id)


CLAIMS = [("binds_to", {"actor": "imatinib", "target": "ABL1"}),
          ("regulates_expression", {"regulator": "ABL1", "gene_list": ["MYC", "leukemia"], "direction": "down"}),
          ("binds_to", {"actor": "imatinb", "target": "ABL1"})]


def test_one_grounding_per_name_per_trace_same_verdicts():
    c = Counted()
    v = EntityVerifier(grounder=c.ground, kg_lookup=c.lookup)
    memo = [v.verify(_ctx(7, a, **args)) for a, args in CLAIMS]
    assert c.asked.count("ABL1") == 1 and c.asked.count("kg:ABL1") == 1  # ABL1 is named by all three claims
    plain = [EntityVerifier(grounder=Counted().ground, kg_lookup=Counted().lookup).verify(_ctx(None, a, **args)) for a, args in CLAIMS]
    assert [(r.verdict, r.score, r.evidence, r.message) for r in memo] == [(r.verdict, r.score, r.evidence, r.message) for r in plain]
    assert [r.verdict for r in memo] == ["supported", "contradicted", "unverifiable"]
    # evidence rows are copies: editing one claim's evidence does not change another's
    memo[0].evidence[1]["grounding"]["identifier"] = "edited"
    again = v.verify(_ctx(7, *CLAIMS[0][:1], **CLAIMS[0][1]))
    assert again.evidence[1]["grounding"]["identifier"] == "HGNC:76"
    # another trace grounds afresh (vocabularies may have changed between traces); no trace id: no memo
    v.verify(_ctx(8, *CLAIMS[0][:1], **CLAIMS[0][1]))
    assert c.asked.count("ABL1") == 2
    v.verify(_ctx(None, *CLAIMS[0][:1], **CLAIMS[0][1]))
    v.verify(_ctx(None, *CLAIMS[0][:1], **CLAIMS[0][1]))
    assert c.asked.count("ABL1") == 4
