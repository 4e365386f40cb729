"""bench/verify_eval.py: the claim set is well formed, and the harness's metric arithmetic is right on a
3-claim subset verified by a scripted verifier (the real verifiers' quality is what the bench measures)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from vcr_core.verify.base import ClaimVerdict

ROOT = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location("verify_eval", ROOT / "bench" / "verify_eval.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["verify_eval"] = mod
    spec.loader.exec_module(mod)
    return mod


ve = _load_bench()


def _subset() -> dict:
    """Three claims of the imatinib explanation: n1 (true), n4 (false, swapped target),
    n8 (true), kept in a graph that passes the structural checks."""
    doc = ve.load_claims(ve.DEFAULT_CLAIMS)
    ex = next(e for e in doc["explanations"] if e["id"] == "imatinib_K562")
    keep = {"n1", "n4", "n8"}
    explain = [ex["explain"][0]] + [ln for ln in ex["explain"][1:] if any(f'id="{k}"' in ln for k in keep)]
    explain = [ln.replace(', via="n6"', "") for ln in explain]
    sub = dict(ex, explain=explain, dag=['edge("n1", "n8", relation="causal")', 'edge("n4", "n8", relation="causal")'],
               labels={k: v for k, v in ex["labels"].items() if k in keep})
    return {"explanations": [sub]}


class ScriptedVerifier:
    """A real verifier object whose answers are fixed per claim target: n1 supported (evidence with an
    identifier), n4 contradicted with absence-only evidence, n8 contradicted with real evidence."""

    name, version = "scripted", "1"

    def applies(self, node):
        return True

    def verify(self, ctx):
        node = ctx.node
        if node.action == "binds_to" and node.args.get("target") == "ABL1":
            return ClaimVerdict("supported", 0.9, [{"kind": "record", "field": "target", "id": "HGNC:76"}], "listed target")
        if node.action == "binds_to":
            return ClaimVerdict("contradicted", 0.8, [{"kind": "lookup", "message": "EGFR not found in the target list"}],
                                "not a listed target")
        return ClaimVerdict("contradicted", 0.7, [{"kind": "literature", "pmid": "8616716"}], "made-up contradiction")


def test_claim_set_meets_the_issue_shape():
    doc = ve.load_claims([ve.DEFAULT_CLAIMS, *ve.EXTRA_CLAIMS])  # the default run reads both sets
    problems, summary = ve.check_claim_set(doc)
    assert problems == []
    assert summary["claims"] >= 120 and len(summary["primitives"]) >= 12 and summary["explanations"] >= 15
    assert set(summary["kinds"]) == set(ve.KINDS)
    assert 0.4 <= summary["false"] / summary["claims"] <= 0.6


def test_check_claim_set_reports_unlabelled_and_unknown_nodes():
    doc = _subset()
    doc["explanations"][0]["labels"]["n99"] = {"truth": False, "kind": "invented_kind", "why": "x"}
    del doc["explanations"][0]["labels"]["n1"]
    problems, _ = ve.check_claim_set(doc)
    assert any("n1 has no label" in p for p in problems)
    assert any("n99 names no node" in p for p in problems)


def test_metrics_on_a_three_claim_subset(engine, tmp_path):
    doc = _subset()
    assert ve.check_claim_set(doc)[0] == []
    ticks = iter(range(100))
    result_claims = ve.import_claim_set(engine, doc, tmp_path)
    assert sorted(c["node"] for c in result_claims.values()) == ["n1", "n4", "n8"]
    trace_ids = ve.trace_ids_of(engine, result_claims)
    passes = ve.run_passes(engine, trace_ids, ["structural", "scripted"], {"scripted": ScriptedVerifier()},
                           clock=lambda: float(next(ticks)))
    # Injected clock: cold = t1 - t0 = 1 tick, warm = t3 - t2 = 1 tick, one trace.
    assert passes["cold_s"] == 1 and passes["warm_s"] == 1 and passes["traces_per_s"] == 1.0
    assert passes["warm_matches_cold"] is True
    items = ve.judge(result_claims, ve.verdict_rows(engine, trace_ids))
    by_node = {i["node"]: i for i in items}
    assert by_node["n1"]["verdict"] == "supported" and by_node["n4"]["verdict"] == "contradicted"
    assert by_node["n4"]["absence"] == "no_positive_evidence"  # evidence only says "not found"
    assert by_node["n8"]["absence"] == "true_claim"  # a true claim contradicted
    m = ve.compute_metrics(items)
    assert m["coverage"] == 1.0
    assert m["precision_supported"] == 1.0          # 1 supported, true
    assert m["precision_contradicted"] == 0.5       # n4 false, n8 true
    assert m["falsehood_recall"] == 1.0             # the one false claim is contradicted
    assert m["absence_contradictions"] == 2 and m["absence_detail"] == {"no_positive_evidence": 1, "true_claim": 1}
    assert m["per_verifier"]["scripted"]["applied"] == 3
    assert m["per_kind"]["swapped_target"]["falsehood_recall"] == 1.0
    assert m["per_kind"]["flipped_direction"]["claims"] == 0 and m["per_kind"]["flipped_direction"]["coverage"] is None
    assert m["per_kind"]["true"]["supported_recall"] == 0.5
    assert m["primitives"] == 2
    assert m["closed_world_contradictions"] == 0 and m["closed_world_precision"] is None
    targets = ve.check_targets({**m, "traces_per_s": 12.0})
    assert targets["precision_contradicted"]["pass"] is False and targets["traces_per_s"]["pass"] is True
    assert targets["absence_contradictions"]["pass"] is False
    table = ve.mistakes_table(items)
    assert "WRONG imatinib_K562/n8" in table and "n1" not in table.split("\n", 1)[1]


def test_figures_arithmetic_and_empty_denominators():
    f = ve.figures([(True, "supported"), (False, "supported"), (False, "unverifiable"), (True, "unverifiable")])
    assert f == {"claims": 4, "supported": 2, "contradicted": 0, "coverage": 0.5, "precision_supported": 0.5,
                 "precision_contradicted": None, "falsehood_recall": 0.0}
    assert ve.check_targets({"precision_contradicted": None})["precision_contradicted"]["pass"] is False


@pytest.mark.parametrize("item,absent", [
    ({}, True),
    ({"message": "KIT not found in the graph"}, True),
    ({"message": "no annotation of ESR7 in gene2go"}, True),
    ({"message": "ESR7 is in no vocabulary; nearest symbols", "nearest": ["ESR1 (HGNC:3467)"]}, False),
    ({"kind": "go_annotation", "go": "GO:0006915", "evidence_code": "IDA"}, False),
    ({"kind": "record", "field": "moa_type", "value": "inhibitor"}, False),
])
def test_absence_markers(item, absent):
    assert ve.is_absence_item(item) is absent


def test_closed_world_contradictions_are_counted_apart():
    closed = {"verifier": "record", "verdict": "contradicted", "score": 0.9, "message": "closed world: not listed",
              "evidence": [{"kind": "record_field", "value": ["EGFR"], "closed_world": True}]}
    other = {"verifier": "literature", "verdict": "contradicted", "score": 0.9, "message": "",
             "evidence": [{"pmid": "8616716"}]}
    assert ve.closed_world_only([closed]) is True
    assert ve.closed_world_only([closed, other]) is False
    assert ve.closed_world_only([dict(closed, score=0.2)]) is False  # below the policy's threshold


def test_the_targets_claim_set_is_well_formed_half_false_and_cited():
    doc = ve.load_claims(ve.TARGET_CLAIMS)
    problems, summary = ve.check_claim_set(doc)
    assert problems == [] and summary["false"] * 2 == summary["claims"]
    assert {"swapped_target", "flipped_direction"} <= set(summary["kinds"])
    labels = [lab for ex in doc["explanations"] for lab in ex["labels"].values()]
    assert all(any(w in lab["why"] for w in ("19", "20")) for lab in labels)  # every label cites a dated reference
    both = ve.load_claims(f"{ve.DEFAULT_CLAIMS},{ve.TARGET_CLAIMS}")
    assert len(both["explanations"]) == len(ve.load_claims(ve.DEFAULT_CLAIMS)["explanations"]) + len(doc["explanations"])
