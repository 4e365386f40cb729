"""The Hugging Face export: a directory `datasets.load_dataset` reads (every config and split), splits that
share no perturbation (or cell line), preference pairs from curators and the filter, the sft config in
the original pipeline's text form, and `vcr import-traces` reading the traces config back."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from vcr_core.cli.main import main
from vcr_core import curation as cur
from vcr_core.files import select_traces
from vcr_core.files.hf import SPLITS, HfOptions, group_split, write_hf_dataset
from vcr_core.files.importers import import_traces
from vcr_core.formalism import parse_text
from vcr_core.store import Claim, Curation, Record, Trace, TraceVerdict, Verdict, get_engine
from vcr_core.verify.policy import current_policy

DRUGS = ("imatinib", "dasatinib", "nilotinib", "bosutinib", "ponatinib", "trametinib")
CELLS = ("K562", "A549", "MCF7", "HeLa")


def _build(engine, tmp_path) -> dict[str, list[int]]:
    """Records for every drug x cell line, two traces each (two models), verified; some curated, some
    with a filter verdict."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify import verify_traces
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "records.json"
    recs = [{"index": f"{d}-{c}", "context": {"cell_line": c, "cell_type": c}, "perturbation": {"name": d, "type": "drug"}}
            for d in DRUGS for c in CELLS]
    path.write_text(json.dumps(recs))
    batch_id = ingest_file(engine, path).batch_id
    first, second = [], []
    for r in recs:
        first.append(add_trace(engine, batch_id, EXPLANATION, record_index=r["index"], run_name="model-a"))
        second.append(add_trace(engine, batch_id, EXPLANATION.replace("apoptosis", "senescence"),
                                record_index=r["index"], run_name="model-b"))
    with Session(engine) as s:  # the runs' models, as generation stores them
        for tid in first + second:
            t = s.get(Trace, tid)
            t.model = "model-a" if tid in first else "model-b"
            s.add(t)
        s.commit()
    verify_traces(engine, first[:4] + second[:4], ["structural"])
    with Session(engine) as s:  # a knowledge verifier's claim verdicts, naming the sources it consulted
        for c in s.exec(select(Claim).where(Claim.trace_id.in_(first[:4]))).all():
            s.add(Verdict(trace_id=c.trace_id, claim_id=c.id, claim_hash=c.hash, verifier="kg", version="7",
                          verdict="supported" if c.position else "unverifiable", score=0.9,
                          evidence=[{"kind": "sources_consulted", "sources": ["starter graph"], "verifier": "kg",
                                     "version": "7"}]))
        s.commit()
    approved, rejected = first[:3], second[:3]
    with Session(engine) as s:
        claim = s.exec(select(Claim).where(Claim.trace_id == first[0]).order_by(Claim.position)).first()
    cur.judge_claim(engine, claim.id, "bo", "override", verdict="contradicted", tag="other", note="wrong direction")
    for t in approved:
        cur.judge_trace(engine, t, "ana", "approve", note="good")
    for t in rejected:
        cur.judge_trace(engine, t, "ana", "reject", note="thin")
    with Session(engine) as s:  # the filter ranks records 4 and 5: first passes, second fails
        for t in first[4:6]:
            s.add(TraceVerdict(trace_id=t, verdict="pass", policy=current_policy()))
        for t in second[4:6]:
            s.add(TraceVerdict(trace_id=t, verdict="fail", policy=current_policy()))
        s.commit()
    return {"first": first, "second": second, "approved": approved, "rejected": rejected, "override_claim": [claim.id]}


def _load(path, config=None, tmp_path=None):
    from datasets import load_dataset
    return load_dataset(str(path), config, cache_dir=str(tmp_path / "hf-cache"))


def test_load_dataset_reads_every_config_and_split(engine, tmp_path):
    ids = _build(engine, tmp_path)
    scope = select_traces(engine, status="any")
    sft_ids = select_traces(engine, status="approved")
    out = tmp_path / "ds"
    # tiny writes and shards, so one split is written in several batches and several shards
    summary = write_hf_dataset(engine, scope, out, sft_ids=sft_ids, options=HfOptions(batch_rows=2, shard_rows=4),
                               selection={"status": "approved"})
    assert len(list((out / "data" / "traces").glob("train-*.parquet"))) >= 2

    default = _load(out, None, tmp_path)  # no config named: the default config, traces
    assert set(default) == set(summary["rows"]["traces"])
    assert sorted(t for s in default for t in default[s]["trace_id"]) == sorted(scope)
    for config in ("traces", "sft", "preferences"):
        ds = _load(out, config, tmp_path)
        assert {s: ds[s].num_rows for s in ds} == summary["rows"][config], config
        assert set(ds) <= set(SPLITS)

    traces = _load(out, "traces", tmp_path)
    rows = {r["trace_id"]: r for s in traces for r in traces[s]}
    r0 = rows[ids["first"][0]]
    assert r0["perturbation"] == "imatinib" and r0["cell_line"] == "K562" and r0["model"] == "model-a"
    assert r0["curation_status"] == "approve" and r0["curation"][0]["judgment"] == "approve"
    assert r0["answer"].startswith("Imatinib inhibits ABL1") and r0["dag"].startswith("edge(")
    assert [c["primitive"] for c in r0["claims"]] == ["binds_to", "regulates_expression", "induces_phenotype"]
    overridden = r0["claims"][0]
    assert overridden["effective_verdict"] == "contradicted" and overridden["curation"][0]["curator"] == "bo"
    assert json.loads(overridden["arguments"]) == {"actor": "imatinib", "target": "ABL1"}
    assert overridden["grounding"]
    assert any(c["machine_verdict"] for c in r0["claims"])  # verified by the structural verifier
    assert rows[ids["first"][4]]["trace_verdict"] == "pass"

    sft = _load(out, "sft", tmp_path)
    sft_rows = [r for s in sft for r in sft[s]]
    assert sorted(r["trace_id"] for r in sft_rows) == sorted(sft_ids) == sorted(ids["approved"])
    msgs = sft_rows[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert "How does the following perturbation influence the cell" in msgs[1]["content"]
    body = msgs[2]["content"]
    assert body.index("<answer>") < body.index("<explain>") < body.index("<dag>")
    assert len(parse_text(body).explanation.claims) == 3

    prefs = _load(out, "preferences", tmp_path)
    pairs = [r for s in prefs for r in prefs[s]]
    by_source = {}
    for p in pairs:
        by_source.setdefault(p["source"], set()).add((p["chosen_trace_id"], p["rejected_trace_id"]))
    assert by_source["curation"] == set(zip(ids["approved"], ids["rejected"]))
    assert by_source["filter"] == set(zip(ids["first"][4:6], ids["second"][4:6]))
    assert summary["preference_pairs"] == len(pairs) == 5
    p = pairs[0]
    assert p["prompt"][0]["role"] == "system" and p["chosen"][0]["role"] == "assistant"
    assert p["chosen"][0]["content"] != p["rejected"][0]["content"] and "trace" in p["reason"]


def test_card_states_counts_policy_split_and_selection(engine, tmp_path):
    _build(engine, tmp_path)
    out = tmp_path / "ds"
    summary = write_hf_dataset(engine, select_traces(engine, status="any"), out,
                               options=HfOptions(split_by="cell_line", seed=7), selection={"status": "any", "model": None})
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(out / "README.md")
    configs = {c["config_name"]: c for c in card.data.configs}
    assert set(configs) == {"traces", "sft", "preferences"} and configs["traces"].get("default") is True
    infos = {i["config_name"]: i for i in card.data.dataset_info}
    assert {f["name"] for f in infos["traces"]["features"]} >= {"claims", "think", "answer", "explain", "dag", "archive"}
    assert sum(s["num_examples"] for s in infos["traces"]["splits"]) == summary["traces"] == len(DRUGS) * len(CELLS) * 2
    text = card.text
    assert "by cell line" in text and "seed 7" in text
    assert f"| traces | {summary['traces']} |" in text and f"| claims | {summary['claims']} |" in text
    assert "min_supported_share" in text and "structural" in text  # the policy and the verifiers
    assert "| kg | 7 | starter graph |" in text  # the knowledge source a verifier consulted, with its version
    assert "model-a" in text and "model-b" in text
    assert "Cohen's kappa" in text or "No claim was judged by two curators" in text
    assert "| status | any |" in text


@pytest.mark.parametrize("rule", ["perturbation", "cell_line", "both"])
def test_splits_share_no_group(engine, tmp_path, rule):
    _build(engine, tmp_path)
    out = tmp_path / f"ds-{rule}"
    summary = write_hf_dataset(engine, select_traces(engine, status="any"), out, options=HfOptions(split_by=rule, seed=3,
                                                                                                    fractions=(0.5, 0.25, 0.25)))
    traces = _load(out, "traces", tmp_path)
    keys = {"perturbation": ["perturbation"], "cell_line": ["cell_line"], "both": ["perturbation", "cell_line"]}[rule]
    for key in keys:
        seen: dict[str, str] = {}
        for split in traces:
            for value in traces[split][key]:
                assert seen.setdefault(value, split) == split, f"{key} {value} in {seen[value]} and {split}"
    kept = sum(traces[s].num_rows for s in traces)
    assert kept + summary["split"]["excluded_traces"] == len(DRUGS) * len(CELLS) * 2
    if rule == "both":  # left out exactly the rows whose drug and cell line fall in different splits
        expected = sum(2 for d in DRUGS for c in CELLS
                       if group_split("perturbation", d, 3, (0.5, 0.25, 0.25)) != group_split("cell_line", c, 3, (0.5, 0.25, 0.25)))
        assert summary["split"]["excluded_traces"] == expected
    # the same seed gives the same splits
    again = write_hf_dataset(engine, select_traces(engine, status="any"), tmp_path / "again",
                             options=HfOptions(split_by=rule, seed=3, fractions=(0.5, 0.25, 0.25)))
    assert again["rows"] == summary["rows"] and again["split"] == summary["split"]


def _sorted(items) -> list:
    return sorted(items, key=repr)


def _snapshot(engine) -> dict:
    with Session(engine) as s:
        recs = {r.id: r.index for r in s.exec(select(Record)).all()}
        traces = {t.id: (recs[t.record_id], t.model, t.text_form) for t in s.exec(select(Trace)).all()}
        claims = {c.id: c.node_id for c in s.exec(select(Claim)).all()}
        return {
            "traces": _sorted(traces.values()),
            "claims": _sorted((traces[c.trace_id], c.node_id, c.action, json.dumps(c.args, sort_keys=True), c.hash)
                             for c in s.exec(select(Claim)).all()),
            "verdicts": _sorted((traces[v.trace_id], claims.get(v.claim_id), v.verifier, v.verdict, v.score, str(v.created_at))
                               for v in s.exec(select(Verdict)).all()),
            "trace_verdicts": _sorted((traces[v.trace_id], v.verdict, str(v.created_at)) for v in s.exec(select(TraceVerdict)).all()),
            "curations": _sorted((traces[c.trace_id], c.target, claims.get(c.claim_id), c.curator, c.judgment, c.verdict,
                                 c.tag, c.note, str(c.created_at)) for c in s.exec(select(Curation)).all()),
        }


def test_import_traces_reads_the_traces_config_back(engine, tmp_path, monkeypatch):
    _build(engine, tmp_path)
    out = tmp_path / "ds"
    write_hf_dataset(engine, select_traces(engine, status="any"), out, options=HfOptions(split_by="both"))
    before = _snapshot(engine)
    kept = {r for r in before["traces"]}
    other = get_engine(f"sqlite:///{tmp_path / 'other.db'}")
    counts = import_traces(other, out)
    assert 0 < counts["rows"] < len(before["traces"])
    after = _snapshot(other)
    # the rule 'both' leaves some traces out: everything exported comes back the same, nothing else
    assert set(after["traces"]) <= kept and len(after["traces"]) == counts["rows"]
    for kind in ("claims", "verdicts", "trace_verdicts", "curations"):
        assert after[kind] == [x for x in before[kind] if x[0] in set(after["traces"])], kind
    again = import_traces(other, out)  # a second import adds nothing
    assert counts["added"]["traces"] == counts["rows"] and counts["added"]["curations"] > 0
    assert again["duplicate"] is True and not any(again["added"].values())
    assert _snapshot(other) == after


def test_vcr_export_hf_command_and_new_filters(engine, tmp_path, capsys):
    ids = _build(engine, tmp_path)
    out = tmp_path / "cli-ds"
    assert main(["export", "--format", "hf", "-o", str(out), "--split-by", "both", "--seed", "5", "--model", "model-a"]) == 0
    summary = json.loads((out / "vcr_export.json").read_text())
    assert summary["selection"]["model"] == "model-a" and summary["selection"]["status"] == "approve"
    assert summary["split"]["rule"] == "both" and summary["split"]["seed"] == 5
    assert summary["sft_selected"] == len(ids["approved"])  # sft: the approved traces; traces: the whole scope
    assert summary["traces"] + summary["split"]["excluded_traces"] == len(ids["first"])
    # one model's traces make no pair: datasets cannot load a config without rows, so the card leaves the
    # preferences config out of its header and says so; the others load
    assert summary["preference_pairs"] == 0 and summary["rows"]["preferences"] == {}
    from huggingface_hub import DatasetCard
    card = DatasetCard.load(out / "README.md")
    assert [c["config_name"] for c in card.data.configs] == ["traces", "sft"]
    assert "Not in this dataset (no row, so `load_dataset` has nothing to read): preferences." in card.text
    sft = _load(out, "sft", tmp_path)
    assert {s: sft[s].num_rows for s in sft} == summary["rows"]["sft"]
    # `vcr import-traces DIR` reads the traces config back: into the database it came from, it adds nothing
    capsys.readouterr()
    assert main(["import-traces", str(out)]) == 0
    assert f"archive of {summary['traces']} trace(s)" in capsys.readouterr().out
    assert main(["import-traces", str(tmp_path / "nowhere")]) == 2
    # an export replaces an earlier one, never a directory holding something else
    assert main(["export", "--format", "hf", "-o", str(out), "--status", "any"]) == 0
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert main(["export", "--format", "hf", "-o", str(tmp_path / "busy")]) == 1
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    assert main(["export", "--format", "hf"]) == 2  # a directory is needed
    capsys.readouterr()
    # the new selection filters apply to every format
    assert set(select_traces(engine, status="reject")) == set(ids["rejected"])
    assert set(select_traces(engine, status="any", verdict="fail")) == set(ids["second"][4:6])
    assert set(select_traces(engine, status="any", model="model-b")) == set(ids["second"])
    now = datetime.utcnow()
    assert len(select_traces(engine, status="any", since=now - timedelta(hours=1))) == 2 * len(ids["first"])
    assert select_traces(engine, status="any", until=now - timedelta(hours=1)) == []


def test_zip_of_the_dataset_for_the_export_page(engine, tmp_path):
    from vcr_core.files.hf import hf_zip

    _build(engine, tmp_path)
    fh = hf_zip(engine, select_traces(engine, status="any"), sft_ids=None, selection={"status": "any"})
    with zipfile.ZipFile(io.BytesIO(fh.read())) as z:
        names = z.namelist()
        z.extractall(tmp_path / "unzipped")
    assert "README.md" in names and any(n.startswith("data/traces/") for n in names)
    assert _load(tmp_path / "unzipped", "sft", tmp_path).num_rows


def test_export_page_offers_the_dataset_zip(app, engine, tmp_path):
    """The Export page's Hugging Face button hands over a zip of the dataset of the page's selection."""
    _build(engine, tmp_path)
    app.switch_page("pages/export.py").run()
    assert not app.exception, app.exception
    assert "3 trace(s) selected." in [m.value for m in app.markdown]  # approved, the default
    app.selectbox(key="hf_split").set_value("both").run()
    assert not app.exception, app.exception
    assert "Hugging Face dataset (zip)" in [b.proto.label for b in app.get("download_button")]
    # The button's data is built on click (a callable), so the page's own selection is checked through the
    # same call the page makes.
    from vcr_core.files.hf import HfOptions, hf_zip
    fh = hf_zip(engine, select_traces(engine, status="any"), sft_ids=select_traces(engine),
                selection={"status": "approved"}, options=HfOptions(split_by="both"))
    with zipfile.ZipFile(io.BytesIO(fh.read())) as z:
        summary = json.loads(z.read("vcr_export.json"))
    assert summary["split"]["rule"] == "both" and summary["sft_selected"] == 3
