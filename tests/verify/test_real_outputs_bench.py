"""bench/real_outputs.py: argument parsing, the hand audit's shape and keys, and the subset written for the importer
(the published files themselves are not part of the project; the measurement is recorded in bench/README.md)."""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("real_outputs", ROOT / "bench" / "real_outputs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ro = _load()


def test_file_arguments_take_a_row_limit():
    args = argparse.Namespace(files=["/x/structure-explain-results-v3-claude4.csv:21", "/y/gemini.json"], mirror=None,
                              first_claude=21, first_gemini=16)
    assert ro._source_files(args) == [(Path("/x/structure-explain-results-v3-claude4.csv"), 21), (Path("/y/gemini.json"), None)]
    assert ro._model(Path("a/structure-explain-results-v3-gemini2-5.csv")) == "gemini"


def test_audit_is_labelled_with_reasons_and_keyed_by_trace_and_text():
    doc = json.loads(ro.AUDIT.read_text(encoding="utf-8"))
    assert "contradicted" in doc and isinstance(doc["contradicted"], list)
    entries = [*doc["contradicted"], *doc["claims"]]
    assert entries and all(e["label"] in ("true", "false", "doubtful") and len(e["reason"]) > 20 for e in entries)
    audit = ro.load_audit()
    first = entries[0]
    assert ro.audit_key(first["trace"], "  " + first["claim"].replace(" ", "  ") + " ") in audit  # whitespace-insensitive


def test_subset_keeps_the_first_rows_and_names_the_model(tmp_path, monkeypatch):
    src = tmp_path / "structure-explain-results-v3-claude4.csv"
    rows = [{"index": i, "input_perturbation": str({"perturbation": {"type": "chemical", "name": f"drug{i}", "target": "KDR",
                                                                     "moa_type": "inhibitor"}}),
             "explain": f'binds_to(id="n1", actor="drug{i}", target="KDR")\ninduces_phenotype(id="n2", source="drug{i}", phenotype="apoptosis")',
             "dag": 'edge("n1", "n2", relation="causal")'} for i in range(3)]
    import csv
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    monkeypatch.setattr(ro, "WORK", tmp_path / "work")
    (tmp_path / "work").mkdir()
    out, indexes = ro._subset(src, 2, "claude")
    assert indexes == ["claude-0", "claude-1"]
    objs = json.loads(out.read_text(encoding="utf-8"))
    assert objs[1]["input_perturbation"]["perturbation"]["name"] == "drug1" and "binds_to" in objs[1]["raw_response"]
