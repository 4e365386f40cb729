"""`vcr db backup` / `vcr db restore`: a consistent copy while curators write, and a guarded restore."""
from __future__ import annotations

import io
import sqlite3
import threading

import pytest
from sqlmodel import Session, select

from vcr_core.cli.main import main
from vcr_core import curation as cur
from vcr_core.store import Curation
from vcr_core.store.backup import BackupError, backup_database, inspect_file, restore_database


def _curation_ids(path) -> set[int]:
    conn = sqlite3.connect(str(path))
    try:
        return {r[0] for r in conn.execute("SELECT id FROM curation")}
    finally:
        conn.close()


def test_backup_while_curators_write_keeps_every_committed_judgment(engine, judged, tmp_path):
    committed: list[int] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def curator(name: str) -> None:
        try:
            i = 0
            while not stop.is_set():
                claim = judged["claim_ids"][i % len(judged["claim_ids"])]
                row = cur.judge_claim(engine, claim, name, "accept", note=f"n{i}")
                committed.append(row.id)  # appended only after the commit returned
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=curator, args=(f"c{k}",)) for k in range(3)]
    for t in threads:
        t.start()
    while len(committed) < 30:
        threading.Event().wait(0.01)
    copies = []
    for k in range(3):  # several backups during the writes
        before = set(committed)  # every judgment committed before this backup started
        res = backup_database(engine, tmp_path / f"copy{k}.db")
        copies.append((before, res.path))
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    for before, path in copies:
        in_copy = _curation_ids(path)
        assert before <= in_copy, f"{len(before - in_copy)} committed judgment(s) missing from {path.name}"
        # the copy is self-contained: no -wal beside it, and it checks as a VCR database
        assert not path.with_name(path.name + "-wal").exists()
        inspect_file(path)


def test_backup_holds_judgments_still_in_the_wal(engine, judged, tmp_path):
    # A plain file copy loses what only the -wal file holds; the backup API does not.
    for k in range(20):
        cur.judge_trace(engine, judged["trace_id"], "ana", "needs_work", note=f"w{k}")
    res = backup_database(engine, tmp_path / "b.db")
    assert res.curations == 20
    with Session(engine) as s:
        assert _curation_ids(res.path) == {c.id for c in s.exec(select(Curation)).all()}


def test_restore_checks_the_file_and_keeps_a_side_copy(engine, judged, tmp_path):
    cur.judge_trace(engine, judged["trace_id"], "ana", "approve")
    res = backup_database(engine, tmp_path / "b.db")
    cur.judge_trace(engine, judged["trace_id"], "bo", "reject")  # after the backup: gone after restore
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"hello")
    with pytest.raises(BackupError, match="not an SQLite"):
        restore_database(engine, bad)
    other = tmp_path / "other.db"
    sqlite3.connect(str(other)).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(BackupError, match="not a VCR database"):
        restore_database(engine, other)
    out = restore_database(engine, res.path)
    assert out.side_copy is not None and out.side_copy.exists()
    assert cur.trace_status(engine, judged["trace_id"]) == "approve"
    assert len(_curation_ids(out.side_copy)) == 2  # the previous database, with the later judgment


def test_cli_backup_and_restore_confirmation(engine, judged, tmp_path, monkeypatch, capsys):
    cur.judge_trace(engine, judged["trace_id"], "ana", "approve")
    dest = tmp_path / "cli.db"
    assert main(["db", "backup", str(dest)]) == 0
    assert "backed up" in capsys.readouterr().out
    assert main(["db", "backup", str(dest)]) == 1  # no silent overwrite
    assert "already exists" in capsys.readouterr().err
    cur.judge_trace(engine, judged["trace_id"], "bo", "reject")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    assert main(["db", "restore", str(dest)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert cur.trace_status(engine, judged["trace_id"]) == "reject"  # unchanged
    assert main(["db", "restore", str(dest), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "replaced database is kept" in out and "1 judgments" in out and "vcr db bring-back" in out
    assert cur.trace_status(engine, judged["trace_id"]) == "approve"


def test_backup_of_a_postgres_url_gives_pg_dump_guidance():
    from vcr_core.store.engine import make_engine

    eng = make_engine("postgresql://u:p@127.0.0.1:1/x")
    with pytest.raises(BackupError, match="pg_dump"):
        backup_database(eng, "/tmp/never.db")
