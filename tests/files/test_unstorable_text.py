"""Text one supported database cannot store (a NUL character: PostgreSQL refuses it, SQLite keeps it;
lone surrogates) is refused or replaced the same way on every database, where it enters (issue 22)."""
from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from vcr_core.cli.main import main
from vcr_core import curation as cur
from vcr_core.files.importers import import_traces
from vcr_core.files.ingest import ingest_file
from vcr_core.kernel.textsafe import storable
from vcr_core.store import Claim, Curation, Record, Trace, get_engine
from vcr_core.verify.testing import EXPLANATION, add_trace


def _trace(engine, tmp_path) -> tuple[int, list[int]]:
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}]))
    tid = add_trace(engine, ingest_file(engine, path).batch_id, EXPLANATION)
    with Session(engine) as s:
        return tid, [c.id for c in s.exec(select(Claim).where(Claim.trace_id == tid)).all()]


def test_storable_replaces_nul_and_lone_surrogates_and_says_where():
    value, changed = storable({"a": "x\x00y", "b": ["ok", "\ud800"], "c": 1})
    assert value == {"a": "x\ufffdy", "b": ["ok", "\ufffd"], "c": 1} and changed == ["a", "b[1]"]
    clean = {"a": "plain", "b": [1, 2]}
    assert storable(clean) == (clean, []) and storable(clean)[0] is clean


def test_ingest_refuses_a_nul_with_its_field(engine, tmp_path):
    path = tmp_path / "nul.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "ima\u0000tinib"}}]))
    result = ingest_file(engine, path)
    assert result.batch_id is None and result.problems
    assert any("NUL" in str(p) and "perturbation.name" in str(p) for p in result.problems)


def _judge_with_unstorable_notes(engine, tmp_path) -> list[str]:
    tid, claims = _trace(engine, tmp_path)
    said = []
    for bad in ("a\x00b", "lone \ud800"):
        with pytest.raises(cur.CurationError) as err:
            cur.judge_claim(engine, claims[0], "ana", "override", verdict="contradicted", tag="other", note=bad)
        said.append(str(err.value))
        with pytest.raises(cur.CurationError):
            cur.judge_trace(engine, tid, "ana", "approve", note=bad)
    with Session(engine) as s:
        assert s.exec(select(Curation)).all() == []  # nothing stored
    return said


def test_a_note_with_a_nul_is_refused_on_sqlite(engine, tmp_path):
    said = _judge_with_unstorable_notes(engine, tmp_path)
    assert "NUL" in said[0] and "lone surrogate" in said[1] and all("\n" not in m for m in said)


def test_postgres_refuses_the_same_and_copy_of_a_sqlite_nul_replaces_it(engine, tmp_path, pg_url, capsys):
    tid, _ = _trace(engine, tmp_path)  # then a NUL stored by an older version (SQLite kept it)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE trace SET report = 'before' || char(0) || 'after' WHERE id = ?", (tid,))
    assert main(["db", "copy", "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "replaced by U+FFFD" in out and "trace" in out
    pg = get_engine(pg_url)
    with Session(pg) as s:
        assert s.get(Trace, tid).report == "before\ufffdafter"
    from vcr_core.store import dispose_engines

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    sqlite_said = _judge_with_unstorable_notes(get_engine(f"sqlite:///{fresh / 'f.db'}"), fresh)
    with Session(pg) as s:
        claim = s.exec(select(Claim).where(Claim.trace_id == tid)).first()
    with pytest.raises(cur.CurationError) as err:
        cur.judge_claim(pg, claim.id, "ana", "override", verdict="contradicted", tag="other", note="a\x00b")
    assert str(err.value) == sqlite_said[0]
    dispose_engines()


def test_imports_replace_nul_alike(engine, tmp_path):
    csv_path = tmp_path / "results.csv"
    explain = EXPLANATION.split("<explain>")[1].split("</explain>")[0]
    import csv
    with open(csv_path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "explain", "input_perturbation", "input_report_text"])
        w.writerow([1, explain, repr({"context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}),
                    "report with a \x00 NUL"])
    counts = import_traces(engine, csv_path)
    assert counts["rows"] == 1
    with Session(engine) as s:
        trace = s.exec(select(Trace)).one()
        assert trace.report == "report with a \ufffd NUL"
        assert any("U+FFFD" in e for e in trace.errors)
