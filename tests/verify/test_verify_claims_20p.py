"""The pathway / process-direction / phenotype-in-context claim set (bench/verify_claims_20p.json): valid,
about half false, every label justified with a reference, and read together with the main set by default."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_module():
    spec = importlib.util.spec_from_file_location("verify_eval_20p", ROOT / "bench" / "verify_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_claim_set_is_valid_labelled_and_referenced():
    ve = bench_module()
    doc = ve.load_claims(ROOT / "bench" / "verify_claims_20p.json")
    problems, summary = ve.check_claim_set(doc)
    assert problems == []
    assert summary["claims"] >= 60 and 0.35 <= summary["false"] / summary["claims"] <= 0.6
    assert set(summary["kinds"]) == {"flipped_process", "context_phenotype"}
    assert summary["primitives"]["modulates_pathway_activity"] >= 15 and summary["primitives"]["induces_phenotype"] >= 15
    for ex in doc["explanations"]:
        for nid, lab in ex["labels"].items():
            assert re.search(r"PMID \d+|et al\. \d{4}|& \w+ \d{4}", lab["why"]), (ex["id"], nid, lab["why"])


def test_default_run_reads_both_sets():
    ve = bench_module()
    both = ve.load_claims([ve.DEFAULT_CLAIMS, *ve.EXTRA_CLAIMS])
    main = ve.load_claims(ve.DEFAULT_CLAIMS)
    extra = ve.load_claims(ve.EXTRA_CLAIMS)
    assert len(both["explanations"]) == len(main["explanations"]) + len(extra["explanations"])
    assert ve.check_claim_set(both)[0] == []  # record indexes stay unique across the files
