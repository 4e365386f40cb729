"""Restore while others write (issue 22): the database goes out of service, nothing acknowledged is
lost without a word, ids are never handed out twice, the judgments since the backup come back with
their own times; backups onto a full disk or failing their check leave nothing behind."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vcr_core.cli.main import main
from vcr_core import curation as cur
from vcr_core.store.backup import BackupError, backup_database, restore_database
from vcr_core.store.backup import sqlite_path
from vcr_core.store.engine import DatabaseRestoring, restore_marker, write_lock


def _rows(path: Path) -> dict[int, tuple]:
    conn = sqlite3.connect(str(path))
    try:
        return {r[0]: tuple(r[1:]) for r in conn.execute("SELECT id, curator, judgment, note, created_at FROM curation")}
    finally:
        conn.close()


def test_restore_under_load_loses_nothing_acknowledged_and_reuses_no_id(engine, judged, tmp_path):
    cur.judge_trace(engine, judged["trace_id"], "ana", "needs_work", note="before")
    backup = backup_database(engine, tmp_path / "b.db").path
    acknowledged: dict[int, tuple] = {}
    refused: list[str] = []
    stop = threading.Event()

    def curator(name: str) -> None:
        k = 0
        while not stop.is_set():
            k += 1
            try:
                row = cur.judge_claim(engine, judged["claim_ids"][k % len(judged["claim_ids"])], name, "accept",
                                      note=f"{name}{k}")
            except cur.CurationError as exc:
                refused.append(str(exc))
                continue
            acknowledged[row.id] = (name, f"{name}{k}")

    threads = [threading.Thread(target=curator, args=(n,)) for n in ("ana", "bo")]
    for t in threads:
        t.start()
    while len(acknowledged) < 30:
        time.sleep(0.01)
    res = restore_database(engine, backup)
    after_restore = len(acknowledged)
    while len(acknowledged) < after_restore + 10:
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()

    side = _rows(res.side_copy)
    live = _rows(sqlite_path(engine))
    # every acknowledged judgment is in the database or in the side copy, counted as missing there
    lost = [i for i in acknowledged if i not in live and i not in side]
    assert lost == []
    missing = [i for i in side if i not in _rows(backup)]
    assert res.missing["judgments"] == len(missing) > 0
    assert res.recoverable == len(missing)  # all on the trace the backup holds
    # no id of the replaced database was handed out again for another row
    assert all(side[i] == live[i] for i in side if i in live)
    assert min(i for i in live if i not in _rows(backup)) > max(side)
    assert all("restore" in msg and "\n" not in msg for msg in refused)
    # and they come back with their own ids and times
    got = cur.bring_back_judgments(engine, str(res.side_copy))
    assert got["brought_back"] == len(missing) and got["left"] == 0
    assert 1 <= got["cores"] <= len(judged["claim_ids"])  # the judged claims' cores, their reuse brought up to date
    live = _rows(sqlite_path(engine))
    assert all(live[i] == side[i] for i in side)
    assert set(acknowledged) <= set(live)
    assert cur.bring_back_judgments(engine, str(res.side_copy))["brought_back"] == 0
    traces, claims = cur.state_snapshot(engine)
    cur.rebuild_state(engine)
    assert (traces, claims) == cur.state_snapshot(engine)


def test_brought_back_judgment_decides_by_its_time_not_its_arrival(engine, judged, tmp_path):
    tid = judged["trace_id"]
    cur.judge_trace(engine, tid, "ana", "approve")
    backup = backup_database(engine, tmp_path / "b.db").path
    cur.judge_trace(engine, tid, "ana", "reject", note="changed my mind")  # after the backup
    res = restore_database(engine, backup)
    cur.rebuild_state(engine)
    assert cur.trace_status(engine, tid) == "approve"
    assert res.missing == {"judgments": 1} and res.recoverable == 1
    cur.bring_back_judgments(engine, str(res.side_copy))
    assert cur.trace_status(engine, tid) == "reject"


def test_brought_back_judgments_decide_their_cores_again_and_regroundings_apply(engine, judged, tmp_path, capsys):
    """A claim judgment made after the backup decided the same claim in another trace, and a re-grounding moved
    a claim to another core; the restore took both away, and bringing the judgments back restores both."""
    from sqlmodel import Session, select

    from vcr_core.store import Claim, ClaimReuseRow, Verdict
    from vcr_core.verify.testing import EXPLANATION, add_trace

    other = add_trace(engine, judged["batch_id"], EXPLANATION, run_name="second model")  # same record, same claims

    def claims(tid):
        with Session(engine) as s:
            return {c.node_id: c for c in s.exec(select(Claim).where(Claim.trace_id == tid)).all()}

    def reused(cid):
        with Session(engine) as s:
            row = s.get(ClaimReuseRow, cid)
            return row.verdict if row is not None else None

    mine, twin = claims(judged["trace_id"]), claims(other)
    backup = backup_database(engine, tmp_path / "b.db").path
    cur.judge_claim(engine, mine["n3"].id, "ana", "override", verdict="contradicted", tag="no_relation")
    cur.reground_claim(engine, mine["n1"].id, "ana", "target", "ABL1", "HGNC:6307", reason="the paper means VEGFR2")
    assert reused(twin["n3"].id) == "contradicted"
    moved = claims(judged["trace_id"])["n1"].core
    assert moved != twin["n1"].core

    res = restore_database(engine, backup)
    cur.rebuild_state(engine)
    assert reused(twin["n3"].id) is None and claims(judged["trace_id"])["n1"].core == twin["n1"].core

    assert main(["db", "bring-back", str(res.side_copy)]) == 0
    assert "claim core(s) applied again" in capsys.readouterr().out
    assert reused(twin["n3"].id) == "contradicted"
    with Session(engine) as s:
        curated = s.exec(select(Verdict).where(Verdict.claim_id == twin["n3"].id, Verdict.verifier == "curated")).all()
    assert curated and curated[-1].verdict == "contradicted" and "ana" in curated[-1].message
    n1 = claims(judged["trace_id"])["n1"]
    assert n1.core == moved and n1.grounding["args"]["target"][0]["identifier"] == "HGNC:6307"
    assert main(["db", "bring-back", str(res.side_copy)]) == 0  # twice: nothing more
    assert "brought back 0 judgment(s)" in capsys.readouterr().out


def test_traces_and_runs_since_the_backup_are_reported(engine, judged, tmp_path, capsys):
    from vcr_core.verify.testing import EXPLANATION, add_trace

    backup = backup_database(engine, tmp_path / "b.db").path
    tid = add_trace(engine, judged["batch_id"], EXPLANATION, run_name="later")
    cur.judge_trace(engine, tid, "ana", "approve")  # on a trace the backup does not hold: not recoverable
    cur.judge_trace(engine, judged["trace_id"], "ana", "reject")
    assert main(["db", "restore", str(backup), "--yes", "--bring-back"]) == 0
    out = capsys.readouterr().out
    assert "2 judgments, 1 traces, 1 runs" in out
    assert "brought back 1 judgment(s)" in out and "1 on traces the backup does not hold" in out
    assert cur.trace_status(engine, judged["trace_id"]) == "reject"


def test_out_of_service_while_restoring(engine, judged):
    marker = restore_marker(sqlite_path(engine))
    marker.write_text("pid 1 since now")
    try:
        with pytest.raises(cur.CurationError, match="being restored"):
            cur.judge_trace(engine, judged["trace_id"], "ana", "approve")
        with pytest.raises(DatabaseRestoring):
            cur.trace_status(engine, judged["trace_id"])
    finally:
        marker.unlink()
    assert cur.trace_status(engine, judged["trace_id"]) == "uncurated"  # nothing was stored


def test_a_writer_that_waited_through_a_restore_is_refused(engine, judged):
    result: list = []
    generation = sqlite_path(engine).with_name(sqlite_path(engine).name + ".restored")

    def judge():
        try:
            result.append(cur.judge_trace(engine, judged["trace_id"], "ana", "approve"))
        except cur.CurationError as exc:
            result.append(exc)

    with write_lock(engine):  # what a restore holds
        t = threading.Thread(target=judge)
        t.start()
        time.sleep(0.3)  # the writer reads the generation, then waits for the lock
        generation.write_text("restored\n")
    t.join()
    assert isinstance(result[0], cur.CurationError) and "restored from a backup while this waited" in str(result[0])
    assert cur.trace_status(engine, judged["trace_id"]) == "uncurated"


def test_a_second_restore_at_once_is_refused(engine, judged, tmp_path):
    backup = backup_database(engine, tmp_path / "b.db").path
    marker = restore_marker(sqlite_path(engine))
    marker.write_text("pid 1")
    try:
        with pytest.raises(BackupError, match="another restore is under way"):
            restore_database(engine, backup)
    finally:
        marker.unlink()


def test_backup_failing_its_check_is_not_left_at_its_path(engine, judged, tmp_path, monkeypatch):
    import vcr_core.store.backup as b

    def broken(path):
        raise BackupError(f"{path} fails SQLite's integrity check: page 3")
    monkeypatch.setattr(b, "inspect_file", broken)
    with pytest.raises(BackupError, match="integrity"):
        backup_database(engine, tmp_path / "b.db")
    assert list(tmp_path.glob("*b.db*")) == []


def test_backup_onto_a_full_disk_leaves_no_partial_file(engine, judged, tmp_path):
    # A real write failure: the file size limit (RLIMIT_FSIZE) makes the copy's writes fail part-way.
    dest = tmp_path / "full" / "b.db"
    dest.parent.mkdir()
    code = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
from vcr_core.store.engine import make_engine
from vcr_core.store.backup import BackupError, backup_database
try:
    backup_database(make_engine({str(engine.url)!r}), {str(dest)!r})
except BackupError as exc:
    print(exc)
    sys.exit(1)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr[-500:]
    assert "not enough space" in proc.stdout and "Traceback" not in proc.stderr
    assert list(dest.parent.iterdir()) == []


def test_migration_makes_ids_autoincrement_and_keeps_every_row(engine, judged):
    from alembic import command

    from vcr_core.store.engine import _alembic_config, upgrade_database

    cur.judge_trace(engine, judged["trace_id"], "ana", "approve")
    path = sqlite_path(engine)
    before = _rows(path)
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    conn = sqlite3.connect(str(path))
    assert "AUTOINCREMENT" not in conn.execute("SELECT sql FROM sqlite_master WHERE name='curation'").fetchone()[0]
    conn.close()
    upgrade_database(engine)
    conn = sqlite3.connect(str(path))
    try:
        assert "AUTOINCREMENT" in conn.execute("SELECT sql FROM sqlite_master WHERE name='curation'").fetchone()[0]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert dict(conn.execute("SELECT name, seq FROM sqlite_sequence"))["curation"] == max(before)
    finally:
        conn.close()
    assert _rows(path) == before


def test_a_worker_waits_out_a_restore_instead_of_dying(engine, caplog):
    from vcr_core.jobs.worker import Worker

    marker = restore_marker(sqlite_path(engine))
    marker.write_text("pid 1")
    worker = Worker(engine, poll_s=0.05, exit_when_idle=True)
    done: list = []
    t = threading.Thread(target=lambda: done.append(worker.run()))
    t.start()
    time.sleep(0.3)  # the worker polls meanwhile and is told the database is being restored
    assert t.is_alive()
    marker.unlink()
    t.join(30)
    assert done == [0]
    assert any("being restored" in r.getMessage() for r in caplog.records)
