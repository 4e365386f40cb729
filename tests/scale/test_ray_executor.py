"""Ray as the executor: a 50-record generation as Ray tasks on a local cluster (2 CPUs, 127.0.0.1)
against the scripted model, after a driver failure and with a Ray worker process killed mid-run:
every record is stored exactly once, the run is done and verified; `vcr verify --executor ray`."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from vcr_core.llm.testing import ScriptedServer, make_records, smart_responder

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")


@pytest.fixture
def ray_cluster():
    from vcr_core.jobs.ray_executor import ensure_ray, shutdown_ray

    shutdown_ray()
    ensure_ray(num_cpus=2, object_store_bytes=200 * 1024 * 1024)
    try:
        yield
    finally:
        shutdown_ray()


def _ray_task_pids(name: bytes = b"ray::record_task") -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if fh.read().startswith(name):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def test_ray_generation_survives_driver_and_worker_failure_each_record_once(engine, tmp_path, ray_cluster):
    _ray_run_with_failures(engine, tmp_path, 50)


def test_ray_generation_on_postgresql(pg_url, tmp_path, ray_cluster):
    """The same on the team's store: tasks write to PostgreSQL, the driver claims with SKIP LOCKED."""
    from vcr_core.store import dispose_engines, get_engine

    _ray_run_with_failures(get_engine(pg_url), tmp_path, 30)
    dispose_engines()


def _ray_run_with_failures(engine, tmp_path, n_records: int):
    from vcr_core.ingest import ingest_file
    from vcr_core.jobs import Worker, create_run, run_progress
    from vcr_core.jobs.generate import config_for_run, process_record
    from vcr_core.jobs.queue import claim, lease_of
    from vcr_core.store import Job, Run, Trace, TraceVerdict, session_scope, utcnow

    path = tmp_path / "r.json"
    path.write_text(json.dumps(make_records(n_records)))
    batch = ingest_file(engine, path, name="fifty").batch_id
    with ScriptedServer(smart_responder, default_delay_s=0.15) as srv:
        run_id = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                            options={"api_base": srv.base_url, "concurrency": 4})
        # A first driver stores 5 records, then dies (its heartbeat stops).
        first = claim(engine, "gone-host:1:dead", kinds=("generate",))
        with session_scope(engine) as s:
            run = s.get(Run, run_id)
        for rid in run.record_ids[:5]:
            process_record(engine, run_id, rid, config_for_run(run), lease_of(first))
        # The Ray driver takes the job over once the heartbeat timeout has passed.
        driver = Worker(engine, kinds=("generate",), executor="ray", concurrency=4, stale_after_s=60,
                        clock=lambda: utcnow() + timedelta(seconds=120))
        thread = threading.Thread(target=driver.run_one)
        thread.start()
        killed = None
        end = time.monotonic() + 120
        while time.monotonic() < end and killed is None:
            with session_scope(engine) as s:
                n = s.exec(select(func.count()).select_from(Trace).where(Trace.run_id == run_id)).one()
            pids = _ray_task_pids()
            if n >= 15 and pids:
                os.kill(pids[0], signal.SIGKILL)  # a Ray worker dies mid-task: Ray retries the task elsewhere
                killed = pids[0]
            time.sleep(0.05)
        thread.join(240)
        assert not thread.is_alive()
    assert killed is not None, "no Ray worker was seen running a record"
    p = run_progress(engine, run_id)
    assert (p["status"], p["n_total"], p["n_done"], p["n_ok"]) == ("done", n_records, n_records, n_records)
    with session_scope(engine) as s:
        per = s.exec(select(Trace.record_id, func.count()).where(Trace.run_id == run_id).group_by(Trace.record_id)).all()
        job = s.exec(select(Job).where(Job.run_id == run_id, Job.kind == "generate")).one()
    assert len(per) == n_records and all(n == 1 for _, n in per)
    assert job.status == "done" and job.worker_id == driver.worker_id and job.n_done == job.n_total == n_records - 5
    assert p["verify_job"]["status"] == "queued"
    # The queued verification job runs (here, through a worker; the quick structural verifier only)
    # and every trace gets a verdict.
    from sqlalchemy import update
    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.kind == "verify", Job.run_id == run_id)
                  .values(payload={"run_id": run_id, "verifiers": ["structural"]}))
    Worker(engine, exit_when_idle=True, kinds=("verify",)).run()
    with session_scope(engine) as s:
        judged = set(s.exec(select(TraceVerdict.trace_id)).all())
        traces = set(s.exec(select(Trace.id).where(Trace.run_id == run_id)).all())
    assert judged == traces


def test_vcr_verify_with_ray_executor(engine, db_url, tmp_path, ray_cluster, capsys):
    from vcr_core.cli import main
    from vcr_core.ingest import ingest_file
    from vcr_core.jobs import Worker, create_run
    from vcr_core.store import Trace, TraceVerdict, session_scope

    path = tmp_path / "r.json"
    path.write_text(json.dumps(make_records(12)))
    batch = ingest_file(engine, path, name="twelve").batch_id
    with ScriptedServer(smart_responder) as srv:
        run_id = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                            options={"api_base": srv.base_url})
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    capsys.readouterr()
    assert main(["verify", "--run", str(run_id), "--executor", "ray", "--verifiers", "structural", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["traces"] == 12
    with session_scope(engine) as s:
        per = s.exec(select(TraceVerdict.trace_id, func.count()).group_by(TraceVerdict.trace_id)).all()
        traces = s.exec(select(Trace.id).where(Trace.run_id == run_id)).all()
    assert {t for t, _ in per} == set(traces) and all(n == 1 for _, n in per)
