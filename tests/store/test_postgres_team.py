"""PostgreSQL as the team's store: `vcr db copy --to URL` moves a SQLite database (every table,
every curation, sequences fixed); the queue claims with FOR UPDATE SKIP LOCKED; two workers share
one run, each record once; a replaced worker is fenced out on PostgreSQL too."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from vcr_core.llm.testing import make_records

pytestmark = pytest.mark.slow


def _fill_sqlite(engine, tmp_path, srv) -> int:
    from vcr_core.curation import judge_claim, judge_trace
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run
    from vcr_core.jobs import Worker
    from vcr_core.store import Claim, Trace, session_scope

    path = tmp_path / "records.json"
    path.write_text(json.dumps(make_records(4)))
    batch = ingest_file(engine, path, name="b").batch_id
    run_id = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                        options={"api_base": srv.base_url})
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    with session_scope(engine) as s:
        trace_ids = s.exec(select(Trace.id)).all()
        claim_ids = s.exec(select(Claim.id)).all()
    for i, cid in enumerate(claim_ids):
        judge_claim(engine, cid, f"curator{i % 3}", "accept", note=f"note {i}")
    judge_trace(engine, trace_ids[0], "curator0", "approve", note="fine")
    return run_id


def test_db_copy_moves_everything_and_fixes_sequences(tmp_path, pg_url, server, monkeypatch, capsys):
    from vcr_core.cli.main import main
    from vcr_core.kernel.settings import get_settings
    from vcr_core.store import Curation, dispose_engines, get_engine, session_scope
    from vcr_core.store.models import TABLE_NAMES

    sqlite_url = f"sqlite:///{tmp_path / 'team.db'}"
    src = get_engine(sqlite_url)
    _fill_sqlite(src, tmp_path, server)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    assert main(["db", "copy", "--to", pg_url]) == 0
    assert "copied" in capsys.readouterr().out
    dst = get_engine(pg_url)

    def rows(engine, model):
        with session_scope(engine) as s:
            return [r.model_dump() for r in s.exec(select(model).order_by(model.id)).all()]

    for name, model in TABLE_NAMES.items():
        assert len(rows(src, model)) == len(rows(dst, model)), name
    a, b = rows(src, Curation), rows(dst, Curation)
    assert len(a) >= 5
    key = ("id", "trace_id", "claim_id", "claim_hash", "curator", "judgment", "note", "tag", "verdict")
    assert [{k: r[k] for k in key} for r in a] == [{k: r[k] for k in key} for r in b]
    # Sequences moved past the copied ids: a new judgment gets the next id, no collision.
    from vcr_core.curation import judge_trace
    new = judge_trace(dst, a[0]["trace_id"], "curator9", "needs_work", note="after the move")
    assert new.id == a[-1]["id"] + 1
    # A second copy into the same (now full) database is refused.
    assert main(["db", "copy", "--to", pg_url]) == 1
    assert "already holds data" in capsys.readouterr().err
    dispose_engines()


def test_queue_on_postgresql_two_workers_each_record_once_and_fencing(tmp_path, pg_url, server):
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run, run_progress
    from vcr_core.generation.generate import LeaseLost, config_for_run, process_record
    from vcr_core.jobs import Worker
    from vcr_core.jobs.queue import claim, lease_of
    from vcr_core.store import Job, Run, Trace, dispose_engines, get_engine, session_scope, utcnow

    engine = get_engine(pg_url)
    path = tmp_path / "records.json"
    path.write_text(json.dumps(make_records(12)))
    batch = ingest_file(engine, path, name="pg").batch_id
    runs = [create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                       options={"api_base": server.base_url, "concurrency": 2}) for _ in range(2)]
    workers = [Worker(engine, exit_when_idle=True, kinds=("generate",)) for _ in range(2)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for run_id in runs:
        p = run_progress(engine, run_id)
        assert (p["status"], p["n_done"], p["verify_job"]["status"]) == ("done", 12, "queued")
    with session_scope(engine) as s:
        per = s.exec(select(Trace.run_id, Trace.record_id, func.count()).group_by(Trace.run_id, Trace.record_id)).all()
    assert len(per) == 24 and all(n == 1 for *_, n in per)

    # Fencing on PostgreSQL: a worker replaced after the heartbeat timeout stores nothing.
    run_id = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                        options={"api_base": server.base_url})
    a = claim(engine, "host-a:1:a", kinds=("generate",))
    b = claim(engine, "host-b:1:b", kinds=("generate",), clock=lambda: utcnow() + timedelta(seconds=600))
    assert b is not None and b.id == a.id and b.lease == a.lease + 1
    with session_scope(engine) as s:
        run = s.get(Run, run_id)
    with pytest.raises(LeaseLost):
        process_record(engine, run_id, run.record_ids[0], config_for_run(run), lease_of(a))
    assert process_record(engine, run_id, run.record_ids[0], config_for_run(run), lease_of(b)) == "ok"
    with session_scope(engine) as s:
        assert s.get(Job, a.id).worker_id == "host-b:1:b"
    dispose_engines()
