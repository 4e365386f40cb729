"""The archive is a faithful, checked exchange (issue 22): claim hashes recomputed with the claim
grounder and checked line by line, values checked against the enums and the trace's nodes, creation
times kept, judgments ordered by their time, broken lines refused with one line; nothing imported then."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from vcr_core.cli.main import main
from vcr_core import curation as cur
from vcr_core.files import export_traces, select_traces
from vcr_core.files.importers import import_traces
from vcr_core.store import Claim, Curation, Record, Run, Trace, Verdict, get_engine, session_scope
from vcr_core.verify.testing import EXPLANATION

KINASE = EXPLANATION.replace('target="ABL1"', 'target="VEGFR2"')  # a name the grounder maps (VEGFR2 = KDR)


def _generated(engine, tmp_path, text=KINASE) -> int:
    """A trace saved as generation saves it: claim hashes grounded."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.formalism import parse_text, validate_parsed
    from vcr_core.knowledge.genes import claim_grounder
    from vcr_core.store.traces import save_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}]))
    batch_id = ingest_file(engine, path).batch_id
    result = parse_text(text)
    with session_scope(engine) as s:
        rec = s.exec(select(Record).where(Record.batch_id == batch_id)).one()
        run = Run(name="gen", batch_id=batch_id, mode="explain-only", status="done")
        s.add(run)
        s.flush()
        return save_trace(s, run_id=run.id, record=rec, explanation=result.explanation,
                          findings=validate_parsed(result), grounder=claim_grounder(), raw_output=text).id


def _archive(engine, path):
    path.write_bytes(export_traces(engine, select_traces(engine, status="any"), "jsonl"))
    return path


def _hashes(engine) -> dict:
    with Session(engine) as s:
        return {c.node_id: c.hash for c in s.exec(select(Claim)).all()}


def _judged(engine, tmp_path):
    tid = _generated(engine, tmp_path)
    with Session(engine) as s:
        claims = [c.id for c in s.exec(select(Claim).where(Claim.trace_id == tid).order_by(Claim.position)).all()]
    from vcr_core.verify import verify_traces
    verify_traces(engine, [tid], ["structural"])
    cur.judge_claim(engine, claims[0], "ana", "override", verdict="contradicted", tag="polarity")
    cur.judge_trace(engine, tid, "ana", "approve")
    return tid, claims


def test_round_trip_keeps_every_claim_hash_and_time(engine, tmp_path):
    _judged(engine, tmp_path)
    other = get_engine(f"sqlite:///{tmp_path / 'b.db'}")
    import_traces(other, _archive(engine, tmp_path / "a.jsonl"))
    assert _hashes(other) == _hashes(engine) and len(_hashes(engine)) == 3
    with Session(engine) as s, Session(other) as o:
        for model in (Record, Trace, Curation):
            assert sorted(str(r.created_at) for r in s.exec(select(model)).all()) == \
                   sorted(str(r.created_at) for r in o.exec(select(model)).all())
    # A -> B -> A changes nothing
    before = cur.state_snapshot(engine), _hashes(engine)
    back = import_traces(engine, _archive(other, tmp_path / "b.jsonl"))
    assert not any(back["added"].values())
    assert (cur.state_snapshot(engine), _hashes(engine)) == before


def test_an_older_archive_never_overrides_newer_judgments(engine, tmp_path):
    tid, _ = _generated(engine, tmp_path), None
    d = get_engine(f"sqlite:///{tmp_path / 'd.db'}")
    import_traces(d, _archive(engine, tmp_path / "c0.jsonl"))  # D starts as a copy of C
    cur.judge_trace(engine, tid, "ana", "approve")  # in C
    with Session(d) as s:
        d_tid = s.exec(select(Trace.id)).one()
    cur.judge_trace(d, d_tid, "ana", "reject", note="later, in D")
    added = import_traces(d, _archive(engine, tmp_path / "c1.jsonl"))["added"]
    assert added["curations"] == 1  # the approval is kept in the log...
    assert cur.trace_status(d, d_tid) == "reject"  # ...but the newer rejection decides


def _lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _write(path, lines) -> None:
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")


def _counts(engine) -> tuple:
    with Session(engine) as s:
        return tuple(len(s.exec(select(m)).all()) for m in (Trace, Verdict, Curation))


def _on_claim(items: list[dict]) -> dict:
    return next(i for i in items if i.get("node_id"))


@pytest.mark.parametrize("tamper, said", [
    (lambda a: a["verdicts"].append({"node_id": "n1", "claim_hash": "0" * 64, "verifier": "go", "version": "1",
                                     "verdict": "supported", "score": 1.0, "created_at": "2026-01-01T00:00:00"}),
     "does not match its claim"),
    (lambda a: a["claim_hashes"].update(n1="f" * 64), "does not match its claim"),
    (lambda a: _on_claim(a["curations"]).update(judgment="'; DROP TABLE curation;--"), "claim judgment says"),
    (lambda a: _on_claim(a["curations"]).update(node_id="n99"), "which the trace does not have"),
    (lambda a: a["verdicts"][0].update(verdict="proven"), "a verdict says"),
    (lambda a: a["trace_verdicts"].append({"verdict": "great", "created_at": None}), "a trace verdict says"),
    (lambda a: a["curations"][0].update(target="record"), "target"),
    (lambda a: a["curations"][0].update(created_at="yesterday"), "not a time"),
    (lambda a: a.pop("record"), "the record section is missing"),
    (lambda a: a.update(record=None), "the record section is missing"),
    (lambda a: a.update(batch=None), "the batch section is missing"),
    (lambda a: a.update(run=None), "the run section is missing"),
    (lambda a: a["record"].pop("position"), "the record has no position"),
])
def test_a_changed_archive_is_refused_with_its_line(engine, tmp_path, tamper, said):
    _judged(engine, tmp_path)
    lines = _lines(_archive(engine, tmp_path / "a.jsonl"))
    lines = [lines[0], json.loads(json.dumps(lines[0]))]
    lines[1]["archive"]["trace"]["created_at"] = None  # a second line, the one changed
    tamper(lines[1]["archive"])
    bad = tmp_path / "bad.jsonl"
    _write(bad, lines)
    other = get_engine(f"sqlite:///{tmp_path / 'o.db'}")
    with pytest.raises(ValueError) as err:
        import_traces(other, bad)
    msg = str(err.value)
    assert msg.startswith("line 2 of the archive") and said in msg and "\n" not in msg
    assert "nothing was imported" in msg
    assert _counts(other) == (0, 0, 0)  # nothing of line 1 either


def test_cli_refuses_a_broken_archive_in_one_line(engine, tmp_path, capsys, monkeypatch):
    _judged(engine, tmp_path)
    lines = _lines(_archive(engine, tmp_path / "a.jsonl"))
    lines[0]["archive"]["run"] = None
    bad = tmp_path / "bad.jsonl"
    _write(bad, lines)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    from vcr_core.kernel.settings import get_settings
    get_settings.cache_clear()
    assert main(["import-traces", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 1 of the archive: the run section is missing" in err
    assert "Traceback" not in err


def test_every_import_path_has_a_size_limit(engine, tmp_path, monkeypatch):
    from vcr_core.kernel.settings import get_settings

    path = tmp_path / "results.csv"
    path.write_text("index,explain\n" + "".join(f"{i},x\n" for i in range(20000)))
    monkeypatch.setenv("MAX_UPLOAD_MB", "0.1")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match=r"above the 0.1 MB limit \(setting MAX_UPLOAD_MB\); nothing was read"):
        import_traces(engine, path)
    assert _counts(engine) == (0, 0, 0)
