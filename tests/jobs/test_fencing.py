"""Job ownership with fencing: a worker that froze past the heartbeat timeout and was replaced writes
nothing when it wakes; the new owner finishes the run and queues its verification; every record is
stored once. The same holds for verify and preprocess jobs (each batch of verdicts / each preprocessed
record is committed only under the lease). Time is injected (a claim clock past the timeout), never slept."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from vcr_core.generation import create_run, run_progress
from vcr_core.generation.generate import (
    JobControl,
    LeaseLost,
    config_for_run,
    process_record,
    run_generate_job,
)
from vcr_core.generation.runs import set_run_status
from vcr_core.jobs import Worker
from vcr_core.jobs.queue import LeaseLost as QueueLeaseLost
from vcr_core.jobs.queue import claim, enqueue, finish, heartbeat, lease_of, report_progress, set_job_message
from vcr_core.llm.testing import ScriptedServer, prompt_text, smart_responder
from vcr_core.store import Job, LlmCall, Record, Run, Trace, TraceVerdict, Verdict, session_scope, utcnow


def later(seconds: float = 120):
    """A clock ``seconds`` ahead: the heartbeat timeout has passed for every running job."""
    return lambda: utcnow() + timedelta(seconds=seconds)


def new_run(engine, batch, srv) -> int:
    return create_run(engine, batch_id=batch, tools=[], model="scripted", mode="explain-only",
                      options={"api_base": srv.base_url, "concurrency": 2}, created_by="tester")


def stored(engine, run_id):
    with session_scope(engine) as s:
        return s.exec(select(Trace).where(Trace.run_id == run_id).order_by(Trace.record_id)).all()


class Gate:
    """A responder that holds the first request for ``drug`` (the frozen worker's call in flight)."""

    def __init__(self, drug: str):
        self.drug, self.release, self.entered, self.held = drug, threading.Event(), threading.Event(), False
        self.lock = threading.Lock()

    def __call__(self, body):
        with self.lock:
            hold = not self.held and f'"name": "{self.drug}"' in prompt_text(body)
            self.held = self.held or hold
        if hold:
            self.entered.set()
            self.release.wait(300)
        return smart_responder(body)


def test_replaced_worker_cannot_write_anything(engine, batch, server):
    run_id = new_run(engine, batch, server)
    a = claim(engine, "host-a:1:aaaa")
    lease_a = lease_of(a)
    with session_scope(engine) as s:
        run = s.get(Run, run_id)
    cfg = config_for_run(run)
    for rid in run.record_ids[:2]:
        assert process_record(engine, run_id, rid, cfg, lease_a) == "ok"
    # A freezes; past the heartbeat timeout B takes the job with a new lease.
    assert claim(engine, "host-b:2:bbbb", stale_after_s=60) is None  # not yet stale
    b = claim(engine, "host-b:2:bbbb", stale_after_s=60, clock=later())
    lease_b = lease_of(b)
    assert b.id == a.id and lease_b.epoch == lease_a.epoch + 1
    # A wakes: nothing it tries touches the job or the run.
    n_requests = len(server.requests)
    try:
        process_record(engine, run_id, run.record_ids[2], cfg, lease_a)
        raise AssertionError("a replaced worker started a record")
    except LeaseLost:
        pass
    assert len(server.requests) == n_requests  # not even a model call
    assert heartbeat(engine, a.id, "host-a:1:aaaa", lease=lease_a, n_done=99) == (False, False)
    assert not set_run_status(engine, run_id, "queued", lease=lease_a)
    assert enqueue(engine, "verify", {"run_id": run_id}, run_id=run_id, lease=lease_a) is None
    assert not finish(engine, a.id, "host-a:1:aaaa", "queued", lease=lease_a)
    with session_scope(engine) as s:
        job = s.get(Job, a.id)
        assert (job.status, job.worker_id, job.lease, job.n_done) == ("running", "host-b:2:bbbb", lease_b.epoch, 0)
        assert s.exec(select(Job).where(Job.kind == "verify")).all() == []
    # B, the owner, finishes the run and queues its verification.
    control = JobControl(lease_b)
    assert run_generate_job(engine, run_id, control) == "done"
    assert finish(engine, b.id, "host-b:2:bbbb", "done", lease=lease_b)
    p = run_progress(engine, run_id)
    assert (p["status"], p["n_done"], p["n_ok"], p["verify_job"]["status"]) == ("done", 6, 6, "queued")
    assert len({t.record_id for t in stored(engine, run_id)}) == len(stored(engine, run_id)) == 6


def test_frozen_worker_wakes_after_takeover_run_done_and_verified_once(engine, batch):
    """End to end with two Workers: A's call for drug2 hangs (A is 'frozen'); B claims past the
    timeout, generates every record, finishes the run and queues verification; then A wakes, its
    answer for drug2 is discarded (B's trace stays), and A leaves the job and the run alone."""
    gate = Gate("drug2")
    with ScriptedServer(gate) as srv:
        run_id = new_run(engine, batch, srv)
        worker_a = Worker(engine, concurrency=1, heartbeat_s=3600, kinds=("generate",))
        thread_a = threading.Thread(target=worker_a.run_one)
        thread_a.start()
        assert gate.entered.wait(30)
        # B arrives after the heartbeat timeout (injected clock) and owns the job from now on.
        worker_b = Worker(engine, concurrency=2, exit_when_idle=True, stale_after_s=60, clock=later(),
                          kinds=("generate",))
        assert worker_b.run() == 1
        p = run_progress(engine, run_id)
        assert (p["status"], p["n_done"], p["n_ok"]) == ("done", 6, 6)
        before = {t.record_id: (t.id, t.created_at) for t in stored(engine, run_id)}
        gate.release.set()  # A wakes up
        thread_a.join(30)
        assert not thread_a.is_alive()
    traces = stored(engine, run_id)
    assert {t.record_id: (t.id, t.created_at) for t in traces} == before  # nothing overwritten
    assert len(traces) == 6 and len({t.record_id for t in traces}) == 6
    with session_scope(engine) as s:
        jobs = s.exec(select(Job).where(Job.run_id == run_id)).all()
        linked = s.exec(select(LlmCall).where(LlmCall.run_id == run_id, LlmCall.trace_id.is_not(None))).all()
    gen = [j for j in jobs if j.kind == "generate"]
    verify = [j for j in jobs if j.kind == "verify"]
    assert len(gen) == 1 and gen[0].status == "done" and gen[0].worker_id == worker_b.worker_id
    assert len(verify) == 1 and verify[0].status == "queued"
    assert run_progress(engine, run_id)["status"] == "done"
    # Each trace is linked to exactly the calls of its owner (one explain call per record).
    assert len(linked) == 6 and len({c.record_id for c in linked}) == 6


@pytest.mark.slow
def test_real_sigstop_past_the_heartbeat_timeout(engine, db_url, batch, isolated_settings):
    """A `vcr worker` process is frozen with SIGSTOP mid-run (its call in flight), another worker takes
    the job after the heartbeat timeout (2 s here) and finishes it; then the frozen one is woken with
    SIGCONT: no trace is overwritten or added, the run stays done with one verification job."""
    with ScriptedServer(smart_responder, default_delay_s=0.4) as srv:
        run_id = create_run(engine, batch_id=batch, tools=[], model="scripted", mode="explain-only",
                            options={"api_base": srv.base_url, "concurrency": 1}, created_by="tester")
        env = {**os.environ, "DATABASE_URL": db_url, "VCR_HOME": str(isolated_settings), "OFFLINE": "true"}
        proc = subprocess.Popen([sys.executable, "-m", "vcr_core.cli.main", "worker", "--kinds", "generate",
                                 "--stale-after", "2", "--poll", "0.2"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: len(stored(engine, run_id)) >= 2 and len(srv.requests) > 2, 120)
            proc.send_signal(signal.SIGSTOP)
            n_frozen = len(stored(engine, run_id))
            other = Worker(engine, exit_when_idle=True, stale_after_s=2, kinds=("generate",), poll_s=0.2)
            _wait(lambda: other.run_one(), 60)  # claimable once the heartbeat is 2 s old
            p = run_progress(engine, run_id)
            assert (p["status"], p["n_done"]) == ("done", 6) and n_frozen < 6
            before = {t.record_id: (t.id, t.created_at) for t in stored(engine, run_id)}
            proc.send_signal(signal.SIGCONT)
            time.sleep(3)  # let it wake, get its late answer and be fenced out (no timing is asserted)
        finally:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            proc.wait(30)
    assert {t.record_id: (t.id, t.created_at) for t in stored(engine, run_id)} == before
    with session_scope(engine) as s:
        jobs = s.exec(select(Job).where(Job.run_id == run_id)).all()
    assert [j.kind for j in jobs].count("verify") == 1
    gen = next(j for j in jobs if j.kind == "generate")
    assert gen.status == "done" and gen.worker_id == other.worker_id
    assert run_progress(engine, run_id)["status"] == "done"


def _wait(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


class HoldNth:
    """Wraps ``fn``: its ``nth`` call (the worker about to freeze) waits for ``release`` before computing."""

    def __init__(self, fn, nth: int):
        self.fn, self.nth, self.calls = fn, nth, 0
        self.release, self.entered, self.lock = threading.Event(), threading.Event(), threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
            hold = self.calls == self.nth
        if hold:
            self.entered.set()
            self.release.wait(300)
        return self.fn(*args, **kwargs)


def _job_row(engine, job_id):
    with session_scope(engine) as s:
        j = s.get(Job, job_id)
        return (j.status, j.worker_id, j.lease, j.n_done, j.n_total, j.message, j.heartbeat_at, j.finished_at)


def _verdicts(engine):
    with session_scope(engine) as s:
        rows = s.exec(select(Verdict.id, Verdict.trace_id, Verdict.verifier, Verdict.created_at)).all()
        trace_rows = s.exec(select(TraceVerdict.id, TraceVerdict.trace_id)).all()
    return sorted(rows), sorted(trace_rows)


def test_lease_lost_verify_and_preprocess_writes_raise_and_change_nothing(engine, batch, server):
    """The building blocks: after a takeover, the old lease's verdicts, progress and message are refused."""
    from vcr_core.preprocess import preprocess_records
    from vcr_core.verify.runner import verify_traces

    run_id = new_run(engine, batch, server)
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    job_id = enqueue(engine, "preprocess", {"batch_id": batch, "mode": "ner"})
    with session_scope(engine) as s:
        traces = s.exec(select(Trace.id).where(Trace.run_id == run_id)).all()
        records = s.exec(select(Record.id).where(Record.batch_id == batch)).all()
    lease_a = lease_of(claim(engine, "host-a:1:aaaa", job_id=job_id))
    lease_b = lease_of(claim(engine, "host-b:2:bbbb", job_id=job_id, stale_after_s=60, clock=later()))
    assert lease_b.epoch == lease_a.epoch + 1
    before = _job_row(engine, job_id), _verdicts(engine)
    with pytest.raises(QueueLeaseLost):
        verify_traces(engine, list(traces), ["structural"], lease=lease_a)
    with pytest.raises(QueueLeaseLost):
        preprocess_records(engine, list(records), "ner", lease=lease_a)
    with pytest.raises(QueueLeaseLost):
        report_progress(engine, job_id, lease_a, 3, 6, "stale progress")
    assert not set_job_message(engine, job_id, lease_a, "stale message")
    assert (_job_row(engine, job_id), _verdicts(engine)) == before
    assert before[1] == ([], [])  # not one verdict was written under the lost lease
    with session_scope(engine) as s:
        assert s.exec(select(Record).where(Record.preprocessed_at.is_not(None))).all() == []
    assert LeaseLost is QueueLeaseLost  # one exception for every job kind
    # The owner's writes go through.
    assert report_progress(engine, job_id, lease_b, 1, 6, "owner's progress") is False
    assert verify_traces(engine, list(traces), ["structural"], lease=lease_b)["traces"] == 6


def test_frozen_verify_worker_writes_nothing_after_takeover(engine, batch, server, monkeypatch):
    """Worker A freezes while computing the third trace's verdict; B takes the verify job past the
    heartbeat timeout and verifies every trace; A wakes: its verdict is not written, it stops, and the
    job stays B's. Every trace has exactly one structural verdict."""
    from vcr_core.verify import structural

    run_id = new_run(engine, batch, server)
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    with session_scope(engine) as s:
        job = s.exec(select(Job).where(Job.kind == "verify", Job.run_id == run_id)).one()
        job.payload = {"run_id": run_id, "verifiers": ["structural"]}
        s.add(job)
        job_id = job.id
    hold = HoldNth(structural.verify_structure, 3)
    monkeypatch.setattr(structural, "verify_structure", hold)
    worker_a = Worker(engine, heartbeat_s=3600, kinds=("verify",))
    thread_a = threading.Thread(target=worker_a.run_one)
    thread_a.start()
    assert hold.entered.wait(30)
    assert len(_verdicts(engine)[0]) == 2  # A committed two traces' verdicts before freezing
    worker_b = Worker(engine, exit_when_idle=True, stale_after_s=60, clock=later(), kinds=("verify",))
    assert worker_b.run() == 1
    before = _job_row(engine, job_id), _verdicts(engine)
    assert before[0][:2] == ("done", worker_b.worker_id)
    hold.release.set()  # A wakes up with a verdict computed for a job it no longer owns
    thread_a.join(30)
    assert not thread_a.is_alive()
    assert (_job_row(engine, job_id), _verdicts(engine)) == before
    rows, trace_rows = before[1]
    # One structural verdict per trace (no duplicate from A); the policy verdict is re-evaluated on each
    # verification by design (B re-verified the two traces A had done: 8 rows, every trace has one).
    assert sorted(t for _, t, v, _ in rows if v == "structural") == sorted({t for _, t in trace_rows})
    assert len({t for _, t in trace_rows}) == 6 and len(trace_rows) == 8


def test_frozen_preprocess_worker_writes_nothing_after_takeover(engine, batch, monkeypatch):
    """The same for a preprocess job: A freezes on the third record, B preprocesses the batch, A's
    record is not written when it wakes and the job stays B's."""
    from vcr_core import preprocess

    job_id = enqueue(engine, "preprocess", {"batch_id": batch, "mode": "ner"})
    preprocess.get_ner_backend()  # loaded once per process (the vocabularies take seconds), before A starts
    hold = HoldNth(preprocess.preprocess_record, 3)
    monkeypatch.setattr(preprocess, "preprocess_record", hold)
    worker_a = Worker(engine, heartbeat_s=3600, kinds=("preprocess",))
    thread_a = threading.Thread(target=worker_a.run_one)
    thread_a.start()
    assert hold.entered.wait(30)
    worker_b = Worker(engine, exit_when_idle=True, stale_after_s=60, clock=later(), kinds=("preprocess",))
    assert worker_b.run() == 1

    def records():
        with session_scope(engine) as s:
            return sorted((r.id, r.preprocessed_at, json.dumps(r.preprocessed, sort_keys=True), r.preprocess_error)
                          for r in s.exec(select(Record).where(Record.batch_id == batch)).all())

    before = _job_row(engine, job_id), records()
    assert before[0][:2] == ("done", worker_b.worker_id)
    assert len(before[1]) == 6 and all(at is not None and err is None for _, at, _, err in before[1])
    hold.release.set()
    thread_a.join(30)
    assert not thread_a.is_alive()
    assert (_job_row(engine, job_id), records()) == before
