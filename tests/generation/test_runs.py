"""Runs through the worker: accounting, idempotence, cancel, resume after a kill, stale jobs,
failures, secrets, and the `vcr generate` / `vcr runs` commands."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from vcr_core.generation import cancel_run, create_run, resume_run, run_progress
from vcr_core.jobs import Worker, enqueue
from vcr_core.jobs.queue import claim
from vcr_core.llm.testing import Reply, ScriptedServer, make_records, smart_responder
from vcr_core.store import Claim, Job, LlmCall, Run, Trace, session_scope, utcnow

FAKE_KEY = "sk-fake-SECRET-0123456789abcdef"


def new_run(engine, batch, srv, **options) -> int:
    mode = options.pop("mode", "report-explain")
    return create_run(engine, batch_id=batch, record_ids=None, tools=[], model_type=None, model="scripted", mode=mode,
                      options={"api_base": srv.base_url, **options}, created_by="tester")


def traces(engine, run_id):
    with session_scope(engine) as s:
        return s.exec(select(Trace).where(Trace.run_id == run_id)).all()


def wait_for(cond, timeout=120.0):
    # Generous: a worker's first save grounds its claims (core identity at save, issue 21) and a fresh
    # VCR_HOME builds the vocabularies' cache first (about 30 s, more on a loaded machine).
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_run_end_to_end_accounts_tokens_and_queues_verify(engine, batch, server):
    run_id = new_run(engine, batch, server, concurrency=3)
    assert Worker(engine, exit_when_idle=True).run() >= 1
    p = run_progress(engine, run_id)
    assert (p["status"], p["n_total"], p["n_done"], p["n_ok"], p["n_failed"]) == ("done", 6, 6, 6, 0)
    with session_scope(engine) as s:
        calls = s.exec(select(LlmCall).where(LlmCall.run_id == run_id)).all()
        n_claims = s.exec(select(func.count()).select_from(Claim)).one()
        verify = s.exec(select(Job).where(Job.kind == "verify", Job.run_id == run_id)).all()
    assert len(calls) == 12 and {c.purpose for c in calls} == {"report", "explain"}
    assert all(c.trace_id is not None for c in calls)
    assert p["prompt_tokens"] == sum(c.prompt_tokens for c in calls) == 1200
    ts = traces(engine, run_id)
    assert all(t.prompt_tokens == 200 and t.completion_tokens == 100 for t in ts)
    assert n_claims == 18 and all(t.n_claims == 3 and t.report and t.prompt_version for t in ts)
    assert len(verify) == 1 and verify[0].payload == {"run_id": run_id}
    if verify[0].status == "failed":  # the verification area may not be installed in this build
        assert "verify" in verify[0].error


def test_preprocess_option_finds_entities_before_generating(engine, batch, server):
    from vcr_core.store import Record
    run_id = new_run(engine, batch, server, mode="explain-only", preprocess="ner")
    assert Worker(engine, exit_when_idle=True, kinds=("generate",)).run() == 1
    with session_scope(engine) as s:
        rows = s.exec(select(Record).where(Record.batch_id == batch)).all()
    assert all(r.preprocessed_at is not None for r in rows)
    assert rows[0].preprocessed["perturbation_entity"]["EGFR"] == "Gene"
    assert rows[0].preprocessed["context_entity"]["lung adenocarcinoma"] == "Disease"
    prompt = json.dumps(server.requests[0].body["messages"])
    assert "perturbation_entity" in prompt and "lung adenocarcinoma" in prompt  # the model sees the entities
    progress = run_progress(engine, run_id)
    assert progress["n_ok"] == 6 and progress["job"]["message"] == "entities found for 6 record(s)"


def test_enqueue_is_idempotent_for_an_active_run(engine, batch, server):
    run_id = new_run(engine, batch, server)
    assert enqueue(engine, "generate", {"run_id": run_id}, run_id=run_id) == enqueue(engine, "generate", {"run_id": run_id})
    with pytest.raises(ValueError):
        enqueue(engine, "dance", {})


def gated_responder(n_free: int):
    """A model that answers the first ``n_free`` requests at once and holds every later one until
    ``gate`` is set: tests act while records are in flight without racing a sleep."""
    gate, seen, lock = threading.Event(), [0], threading.Lock()

    def respond(body):
        with lock:
            seen[0] += 1
            held = seen[0] > n_free
        if held:
            gate.wait(60)
        return smart_responder(body)

    return respond, gate


def test_cancel_keeps_finished_traces_and_resume_completes(engine, batch):
    respond, gate = gated_responder(2)
    with ScriptedServer(respond) as srv:
        run_id = new_run(engine, batch, srv, concurrency=1, mode="explain-only")
        worker = Worker(engine, exit_when_idle=True, heartbeat_s=0.1)
        t = threading.Thread(target=worker.run)
        t.start()
        wait_for(lambda: len(traces(engine, run_id)) >= 2)  # the third record is now held in flight
        assert cancel_run(engine, run_id)
        wait_for(lambda: worker.control is None or worker.control.cancel.is_set())  # the heartbeat saw it
        gate.set()
        t.join(60)
        assert not t.is_alive()  # the worker stopped: nothing more can be written
        kept = traces(engine, run_id)
        assert run_progress(engine, run_id)["status"] == "cancelled" and 2 <= len(kept) <= 3
        resume_run(engine, run_id)
        Worker(engine, exit_when_idle=True).run()
    ts = traces(engine, run_id)
    assert len(ts) == 6 and len({t.record_id for t in ts}) == 6
    assert {t.id for t in kept} <= {t.id for t in ts}  # finished traces survived untouched
    assert run_progress(engine, run_id)["status"] == "done"


def _worker_process(db_url: str, home) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": db_url, "VCR_HOME": str(home), "OFFLINE": "true"}
    return subprocess.Popen([sys.executable, "-m", "vcr_core.cli.main", "worker", "--exit-when-idle", "--concurrency", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_kill_worker_mid_run_then_restart_no_duplicates_no_loss(engine, db_url, batch, isolated_settings):
    respond, gate = gated_responder(2)  # records 3 and later are held in flight when the worker dies
    with ScriptedServer(respond) as srv:
        run_id = new_run(engine, batch, srv, mode="explain-only")
        proc = _worker_process(db_url, isolated_settings)
        try:
            wait_for(lambda: len(traces(engine, run_id)) >= 2)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        gate.set()
        with session_scope(engine) as s:
            job = s.exec(select(Job).where(Job.run_id == run_id, Job.kind == "generate")).one()
        assert job.status == "running"  # the killed worker could not clean up
        n_before = len(traces(engine, run_id))
        assert n_before < 6
        # A new worker sees the owner process is gone and takes the job over at once.
        Worker(engine, exit_when_idle=True, stale_after_s=3600).run()
    ts = traces(engine, run_id)
    assert len(ts) == 6 and len({t.record_id for t in ts}) == 6
    with session_scope(engine) as s:
        dup = s.execute(text("SELECT record_id, count(*) FROM trace WHERE run_id=:r GROUP BY record_id HAVING count(*)>1"),
                        {"r": run_id}).all()
    assert dup == [] and run_progress(engine, run_id)["status"] == "done"


def test_stale_job_is_picked_up_and_fresh_one_is_not(engine, batch, server):
    run_id = new_run(engine, batch, server)
    with session_scope(engine) as s:
        job = s.exec(select(Job).where(Job.run_id == run_id)).one()
        job.status, job.worker_id, job.heartbeat_at = "running", "other-host:123:abcd", utcnow()
        s.add(job)
    assert claim(engine, "me:1:x", stale_after_s=30) is None  # alive elsewhere: leave it
    with session_scope(engine) as s:
        job = s.get(Job, job.id)
        job.heartbeat_at = utcnow() - timedelta(seconds=120)
        s.add(job)
    taken = claim(engine, "me:1:x", stale_after_s=30)
    assert taken is not None and taken.worker_id == "me:1:x" and "picked up again" in taken.message
    assert claim(engine, "third:1:y", stale_after_s=30) is None  # only one worker wins


def test_failures_are_stored_then_retried_on_resume(engine, batch, fast_backoff):
    with ScriptedServer(lambda body: Reply(status=500)) as srv:
        run_id = new_run(engine, batch, srv, mode="explain-only")
        Worker(engine, exit_when_idle=True).run()
        p = run_progress(engine, run_id)
        assert p["status"] == "failed" and p["n_failed"] == 6 and "server error" in p["error"]
        assert all(t.status == "failed" and t.errors for t in traces(engine, run_id))
        with session_scope(engine) as s:
            errs = s.exec(select(LlmCall.error).where(LlmCall.run_id == run_id)).all()
        assert len(errs) == 6 and all("gave up" in e for e in errs)
        srv.responder = smart_responder  # the provider recovers
        resume_run(engine, run_id)
        Worker(engine, exit_when_idle=True).run()
    ts = traces(engine, run_id)
    assert len(ts) == 6 and all(t.status == "ok" for t in ts)
    assert run_progress(engine, run_id)["status"] == "done"


def test_invalid_output_is_stored_as_invalid(engine, batch):
    with ScriptedServer(lambda body: Reply(text="<answer>no graph here</answer>")) as srv:
        run_id = new_run(engine, batch, srv, mode="explain-only")
        Worker(engine, exit_when_idle=True).run()
        assert len(srv.requests) == 12  # one repair round per record
    p = run_progress(engine, run_id)
    assert p["n_invalid"] == 6 and p["status"] == "done"
    assert all(t.status == "invalid" and any(f["code"] == "missing_explain" for f in t.findings) for t in traces(engine, run_id))


def test_secrets_never_reach_database_or_logs(engine, db_url, batch, monkeypatch, caplog, capfd):
    from vcr_core.kernel.settings import get_settings

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    get_settings.cache_clear()
    caplog.set_level(logging.DEBUG)
    replies = [Reply(status=401)] + [None] * 100

    def responder(body):
        r = replies.pop(0) if replies else None
        return r or smart_responder(body)

    with ScriptedServer(responder) as srv:
        run_id = new_run(engine, batch, srv)
        Worker(engine, exit_when_idle=True).run()
        auth = {r.headers.get("authorization") or r.headers.get("Authorization") for r in srv.requests}
    assert f"Bearer {FAKE_KEY}" in auth  # the key was really used
    dump = "\n".join(sqlite_dump(db_url))
    assert "scripted" in dump and FAKE_KEY not in dump and FAKE_KEY[-12:] not in dump
    out, err = capfd.readouterr()
    assert FAKE_KEY not in caplog.text + out + err
    assert run_progress(engine, run_id)["n_done"] == 6


def sqlite_dump(db_url: str) -> list[str]:
    import sqlite3

    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_vcr_generate_cli_writes_original_files(engine, db_url, tmp_path, server, capsys):
    from vcr_core.cli.main import main

    path = tmp_path / "tahoe_records.json"
    path.write_text(json.dumps(make_records(3)))
    out_dir = tmp_path / "output"
    code = main(["generate", "--pert_path", str(path), "--model", "scripted", "--api_base", server.base_url,
                 "--tool_list", "[]", "--experiment_name", "exp", "--folder_name", "f", "--output_dir", str(out_dir),
                 "--concurrency", "2"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "3 valid" in printed
    explains = json.loads((out_dir / "structure_explain" / "f" / "tahoe_exp_[]_1.json").read_text())
    reports = json.loads((out_dir / "report" / "f" / "tahoe_exp_[]_1.json").read_text())
    assert [e["index"] for e in explains] == ["tahoe_0", "tahoe_1", "tahoe_2"]
    for key in ("index", "input_perturbation", "thinking", "answer", "explain", "dag", "raw_response", "question",
                "input_report_text", "additional_info"):
        assert key in explains[0]
    assert explains[0]["explain"].startswith("set_context") and explains[0]["input_report_text"].startswith("## Summary")
    assert {"index", "perturbation", "report_text", "question"} <= set(reports[0])
    assert main(["runs"]) == 0 and "done" in capsys.readouterr().out
    # the same file again and --run resume: nothing is generated twice
    assert main(["generate", "--run", "1", "--output_dir", str(out_dir), "--no-files"]) == 0
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Trace)).one() == 3


def test_vcr_generate_without_key_says_which(engine, batch, capsys):
    from vcr_core.cli.main import main

    with pytest.raises(SystemExit, match="ANTHROPIC_API_KEY"):
        main(["generate", "--batch", str(batch), "--model_type", "anthropic"])
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Run)).one() == 0


def test_ensure_worker_starts_one_background_thread(engine, batch, server):
    from vcr_core.jobs import ensure_worker, stop_workers

    try:
        w1 = ensure_worker(engine)
        assert ensure_worker(engine) is w1  # every page load may call it
        run_id = new_run(engine, batch, server, mode="explain-only")
        wait_for(lambda: run_progress(engine, run_id)["status"] == "done")
    finally:
        stop_workers()
    assert len(traces(engine, run_id)) == 6


def test_runs_and_local_model_commands(engine, batch, server, capsys):
    from vcr_core.cli.main import main

    run_id = new_run(engine, batch, server)
    assert main(["runs", "--cancel", str(run_id)]) == 0 and "cancelled" in capsys.readouterr().out
    assert main(["runs", "--run", str(run_id), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["status"] == "cancelled" and info["n_total"] == 6
    assert main(["runs", "--resume", str(run_id)]) == 0 and "queued again" in capsys.readouterr().out
    assert main(["local-model", "status"]) == 0
    assert "tiny model that exercises the whole pipeline" in capsys.readouterr().out
    assert main(["runs", "--run", "999"]) == 2
    assert main(["runs", "--cancel", "999"]) == 2 and "no run 999" in capsys.readouterr().err


def test_sigterm_releases_the_job_for_the_next_worker(engine, db_url, batch, isolated_settings):
    with ScriptedServer(smart_responder, default_delay_s=0.3) as srv:
        run_id = new_run(engine, batch, srv, mode="explain-only")
        proc = _worker_process(db_url, isolated_settings)
        try:
            wait_for(lambda: len(traces(engine, run_id)) >= 1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        with session_scope(engine) as s:
            job = s.exec(select(Job).where(Job.run_id == run_id, Job.kind == "generate")).one()
        assert job.status == "queued" and job.worker_id is None
        assert run_progress(engine, run_id)["status"] == "queued"
        Worker(engine, exit_when_idle=True).run()
    assert len(traces(engine, run_id)) == 6 and run_progress(engine, run_id)["status"] == "done"


def test_a_burst_of_sigterms_never_deadlocks_an_idle_worker(engine, db_url, isolated_settings):
    """The SIGTERM handler only sets a flag: a handler that set an Event could interrupt the main thread
    inside that Event's lock and wait for it forever (seen: a supervised worker that outlived its app)."""
    env = {**os.environ, "DATABASE_URL": db_url, "VCR_HOME": str(isolated_settings), "OFFLINE": "true"}
    proc = subprocess.Popen([sys.executable, "-m", "vcr_core.cli.main", "worker", "--poll", "0.01"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(600):  # wait until it is polling (its banner line comes at the end, so look at the handler)
            if proc.poll() is not None or _catches_sigterm(proc.pid):
                break
            time.sleep(0.1)
        for _ in range(50):  # a burst, as PR_SET_PDEATHSIG plus a service manager may send
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.005)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # It exited (no deadlock): cleanly, or killed by a late SIGTERM once Python's shutdown restored the
    # default handler; communicate() would have timed out on the old handler's deadlock.
    assert proc.returncode in (0, -signal.SIGTERM), out


def _catches_sigterm(pid: int) -> bool:
    """Has the process installed its SIGTERM handler yet (Linux /proc; signal 15 is bit 14 of SigCgt)?"""
    try:
        with open(f"/proc/{pid}/status") as fh:
            mask = next((line.split()[1] for line in fh if line.startswith("SigCgt")), "0")
    except OSError:
        return False
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


def test_the_sigterm_handler_takes_no_lock(engine):
    """Deterministic form of the deadlock above: with the stop Event's own lock held (as the interrupted
    main thread may hold it), the signal-time stop request still returns, and the worker then stops."""
    worker = Worker(engine, poll_s=0.01)
    with worker._stop._cond:  # what Event.set()/wait() hold while a signal lands
        done = threading.Event()
        t = threading.Thread(target=lambda: (worker.stop_from_signal(), done.set()), daemon=True)
        t.start()
        t.join(30)
        assert done.is_set(), "the signal-time stop request waited for a lock"
    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    runner.join(60)
    assert not runner.is_alive() and worker._stop.is_set()
