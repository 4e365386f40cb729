"""The app's worker is a supervised `vcr worker` process: it runs the queue outside the web
process, is restarted when killed, and its state reaches the Status report."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from vcr_core.llm.testing import make_records

pytestmark = pytest.mark.slow


def wait_for(cond, timeout=90.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def _drop_verify_jobs(engine):
    from sqlalchemy import update

    from vcr_core.store import Job, session_scope

    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.kind == "verify").values(status="cancelled"))


def test_supervised_worker_runs_the_queue_and_comes_back_after_a_kill(engine, db_url, tmp_path, server, monkeypatch):
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs.supervisor import WorkerSupervisor, worker_summary

    path = tmp_path / "r.json"
    path.write_text(json.dumps(make_records(3)))
    batch = ingest_file(engine, path, name="b").batch_id
    sup = WorkerSupervisor(db_url, poll_s=0.1, backoff_s=(0.1,), log_path=tmp_path / "worker.log",
                           extra_args=["--poll", "0.2"]).start()
    try:
        wait_for(lambda: sup.snapshot()["running"])
        first = sup.snapshot()["pid"]
        assert first != os.getpid()  # a separate process, not a thread of this one
        run1 = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                          options={"api_base": server.base_url})
        wait_for(lambda: run_progress(engine, run1)["status"] == "done")
        _drop_verify_jobs(engine)  # verification is slow and not what this test is about
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: sup.snapshot()["restarts"] == 1 and sup.snapshot()["running"])
        state = sup.snapshot()
        assert state["pid"] != first and state["last_exit_code"] == -signal.SIGKILL
        ok, detail, _ = worker_summary({"app_worker": True, "supervised": state, "active_jobs": [], "queued_jobs": 0})
        assert ok and "restarted 1 time" in detail
        run2 = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                          options={"api_base": server.base_url})
        wait_for(lambda: run_progress(engine, run2)["status"] == "done")  # the new worker runs the queue
    finally:
        sup.stop()
    assert not sup.snapshot()["running"]


def test_status_reports_external_workers_when_app_worker_is_off(engine, monkeypatch):
    from vcr_core.jobs.supervisor import worker_state, worker_summary
    from vcr_core.kernel.settings import get_settings

    monkeypatch.setenv("APP_WORKER", "false")
    get_settings.cache_clear()
    ok, detail, _ = worker_summary(worker_state(engine))  # the Status page's "Job worker" line
    assert ok and "APP_WORKER=false" in detail and "0 job(s) running" in detail
