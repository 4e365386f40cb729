"""The JSONL export is a complete archive: import-traces rebuilds records, traces, verdicts and
every curation in another database, and a second import adds nothing."""
from __future__ import annotations

import json

from sqlmodel import Session, select

from vcr_core.cli.main import main
from vcr_core import curation as cur
from vcr_core.files import export_traces, select_traces
from vcr_core.files.importers import import_traces
from vcr_core.store import Claim, Curation, Record, Trace, TraceVerdict, Verdict, get_engine


def _build(engine, tmp_path):
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify import verify_traces
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": i, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}
                                for i in (1, 2)]))
    batch_id = ingest_file(engine, path).batch_id
    t1 = add_trace(engine, batch_id, EXPLANATION, record_index="1", run_name="first")
    t2 = add_trace(engine, batch_id, EXPLANATION, record_index="2", run_name="second")
    t3 = add_trace(engine, batch_id, "not an explanation at all", record_index="1", run_name="second")
    verify_traces(engine, [t1, t2], ["structural"])
    with Session(engine) as s:
        claims = [c.id for c in s.exec(select(Claim).where(Claim.trace_id == t1)).all()]
    cur.judge_claim(engine, claims[0], "ana", "accept", note="fine")
    cur.judge_claim(engine, claims[1], "bo", "override", verdict="contradicted", tag="other", note="wrong direction, é ✓")
    cur.judge_trace(engine, t1, "ana", "approve", note="good")
    cur.judge_claim(engine, claims[1], "ana", "accept")  # after approval: also adds a needs_review
    cur.judge_trace(engine, t2, "bo", "reject", note="thin")
    return [t1, t2, t3]


def _snapshot(engine) -> dict:
    with Session(engine) as s:
        recs = {r.id: (r.index, r.position) for r in s.exec(select(Record)).all()}
        traces = {t.id: (recs[t.record_id], t.status, t.text_form, json.dumps(t.explanation, sort_keys=True))
                  for t in s.exec(select(Trace)).all()}
        claims = {c.id: c.node_id for c in s.exec(select(Claim)).all()}
        return {
            "records": sorted((r.index, r.position, json.dumps(r.raw, sort_keys=True)) for r in s.exec(select(Record)).all()),
            "traces": sorted(traces.values()),
            "verdicts": sorted((traces[v.trace_id][0], claims.get(v.claim_id) or "", v.verifier, v.verdict, v.score,
                                str(v.created_at)) for v in s.exec(select(Verdict)).all()),
            "trace_verdicts": sorted((traces[v.trace_id][0], v.verdict, str(v.created_at))
                                     for v in s.exec(select(TraceVerdict)).all()),
            "curations": sorted((traces[c.trace_id][0], c.target, claims.get(c.claim_id), c.claim_hash, c.curator,
                                 c.judgment, c.verdict, c.tag, c.note, str(c.created_at))
                                for c in s.exec(select(Curation)).all()),
        }


def test_export_then_import_rebuilds_everything_once(engine, tmp_path):
    _build(engine, tmp_path)
    ids = select_traces(engine, status="any")
    archive = tmp_path / "all.jsonl"
    archive.write_bytes(export_traces(engine, ids, "jsonl"))
    before = _snapshot(engine)
    assert len(before["curations"]) == 6 and before["verdicts"]

    other = get_engine(f"sqlite:///{tmp_path / 'other.db'}")
    first = import_traces(other, archive)
    assert first["archive"] and first["added"]["curations"] == 6 and first["added"]["traces"] == 3
    assert _snapshot(other) == before
    second = import_traces(other, archive)
    assert second["duplicate"] and not any(second["added"].values())
    assert _snapshot(other) == before
    # into the database it came from: nothing new either
    assert not any(import_traces(engine, archive)["added"].values())
    # the rebuilt database exports the same curation history
    again = export_traces(other, select_traces(other, status="any"), "jsonl").decode().splitlines()
    orig = archive.read_text().splitlines()
    assert [json.loads(a)["curations"] for a in again] == [json.loads(o)["curations"] for o in orig]


def test_cli_import_of_an_archive_says_what_it_added(engine, tmp_path, capsys, monkeypatch):
    _build(engine, tmp_path)
    archive = tmp_path / "a.jsonl"
    assert main(["export", "--status", "any", "-o", str(archive)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli-other.db'}")
    from vcr_core.kernel.settings import get_settings

    get_settings.cache_clear()
    assert main(["import-traces", str(archive)]) == 0
    assert "6 curations" in capsys.readouterr().out
    assert main(["import-traces", str(archive)]) == 0
    assert "already here" in capsys.readouterr().out


def test_unencodable_text_already_stored_is_replaced_and_reported(engine, tmp_path):
    from vcr_core.store import session_scope

    tids = _build(engine, tmp_path)
    with session_scope(engine) as s:  # JSON columns kept such text (as a \ud800 escape) before strict ingest
        t = s.get(Trace, tids[0])
        rec = s.get(Record, t.record_id)
        rec.raw = {**rec.raw, "perturbation": {"name": "bad \ud800 text"}}
        s.add(rec)
    problems: list[str] = []
    for fmt in ("jsonl", "original", "graphml"):
        data = export_traces(engine, select_traces(engine, status="any"), fmt, problems)
        data.decode("utf-8")
    assert any(f"trace {tids[0]}" in p and "record.perturbation.name" in p for p in problems)
    line = export_traces(engine, [tids[0]], "jsonl").decode()
    assert json.loads(line)["record"]["perturbation"]["name"] == "bad \ufffd text"


def test_original_output_files_replace_unencodable_text(engine, tmp_path):
    from vcr_core.generation.outputs import write_original_files
    from vcr_core.store import session_scope

    tids = _build(engine, tmp_path)
    with session_scope(engine) as s:
        t = s.get(Trace, tids[0])
        run_id = t.run_id
        rec = s.get(Record, t.record_id)
        rec.raw = {**rec.raw, "perturbation": {"name": "bad \ud800 text"}}
        s.add(rec)
    rep, exp = tmp_path / "out" / "r.json", tmp_path / "out" / "e.json"
    write_original_files(engine, run_id, rep, exp)
    rows = json.loads(exp.read_text(encoding="utf-8"))
    assert rows and rows[0]["input_perturbation"]["perturbation"]["name"] == "bad \ufffd text"
    assert not list((tmp_path / "out").glob(".*.tmp"))  # written whole, no temporary file left
