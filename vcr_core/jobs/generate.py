"""The generate job: every record of a run not yet done, with bounded concurrency.

Each record is stored in one transaction (trace, claims, links to its model calls), so a worker
killed at any moment leaves either a complete trace or none; the next worker skips the done ones.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ..agents import CallOptions, GenerationConfig, generate_for_record
from ..llm import CallInfo, LocalModelError, ensure_local_model, missing_key_message
from ..store import Job, LlmCall, Record, Run, Trace, session_scope, utcnow
from ..store.traces import record_model, save_trace
from ..knowledge.genes import claim_grounder
from .queue import ACTIVE, Lease, LeaseLost, fence, owns
from .inflight import InFlight
from .runs import choice_for_run, refresh_counts, set_run_status

log = logging.getLogger(__name__)


class JobControl:
    """What a running job listens to: cancel (stop new work) and shutdown (release the job).
    ``lease`` is the job's ownership; every write the job makes is fenced by it."""

    def __init__(self, lease: Lease | None = None) -> None:
        self.lease = lease
        self.cancel = threading.Event()
        self.shutdown = threading.Event()
        self.lost = threading.Event()  # another worker took the job over
        self.finished = threading.Event()  # the job ended: the heartbeat stops
        self.in_flight = InFlight()  # what each record in flight is doing (the heartbeat publishes it)

    @property
    def stop(self) -> bool:
        return self.cancel.is_set() or self.shutdown.is_set() or self.lost.is_set()


def config_for_run(run: Run) -> GenerationConfig:
    """The agents' configuration from a run row."""
    opts = run.options or {}
    return GenerationConfig(
        choice=choice_for_run(run), mode=run.mode, tools=list(run.tools or []),
        kg_with_rel=bool(opts.get("kg_with_rel")), kg_num_neighbor=int(opts.get("kg_num_neighbor") or 1),
        pubmed_num_papers=int(opts.get("pubmed_num_papers") or 30),
        call=CallOptions(timeout=opts.get("timeout"), output_format=opts.get("output_format") or "auto",
                         max_tokens=opts.get("max_tokens"), rpm=opts.get("rpm")))


def pending_record_ids(engine: Engine, run: Run) -> list[int]:
    """Record ids of the run without a trace (or whose trace failed), in run order."""
    with session_scope(engine) as session:
        done = dict(session.exec(select(Trace.record_id, Trace.status).where(Trace.run_id == run.id)).all())
    return [rid for rid in (run.record_ids or []) if done.get(rid) in (None, "failed")]


def _recorder(engine: Engine, run_id: int, record_id: int) -> Callable[[CallInfo], None]:
    """Stores each model call as it happens: a row when the call starts (so a worker killed while
    waiting still leaves the call on record), completed with tokens and cost as soon as the answer
    arrives, before the answer is used."""
    started: dict[int, int] = {}  # thread -> id of the in-flight row of its current call
    written: list[int] = []  # every row this recorder wrote: the trace is linked to these calls only

    def record(info: CallInfo) -> None:
        values = dict(purpose=info.purpose, provider=info.provider, model=info.model, prompt_tokens=info.prompt_tokens,
                      completion_tokens=info.completion_tokens, cost_usd=info.cost_usd,
                      latency_s=round(info.latency_s, 3), attempts=info.attempts, error=info.error)
        key = threading.get_ident()
        with session_scope(engine) as session:
            row_id = started.pop(key, None)
            row = session.get(LlmCall, row_id) if row_id is not None else None
            if row is None:
                row = LlmCall(run_id=run_id, record_id=record_id, **values)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            session.add(row)
            session.flush()
            if row.id not in written:
                written.append(row.id)
            if info.in_flight:
                started[key] = row.id
    record.wants_in_flight = True  # type: ignore[attr-defined]
    record.row_ids = written  # type: ignore[attr-defined]
    return record


def process_record(engine: Engine, run_id: int, record_id: int, cfg: GenerationConfig,
                   lease: Lease | None = None, in_flight: InFlight | None = None) -> str:
    """Generate and store the trace of one record; returns its status.

    With ``lease``, the record is not started once the lease is lost, and its trace is stored only if
    the lease is still current in the storing transaction (else :class:`LeaseLost`): a worker that
    woke up after being replaced never overwrites the new owner's trace."""
    if not owns(engine, lease):
        raise LeaseLost(f"job {lease.job_id} was taken over by another worker; record {record_id} not started")
    in_flight = in_flight or InFlight()
    with session_scope(engine) as session:
        row = session.get(Record, record_id)
        record = record_model(row)
    in_flight.begin(record_id, f"{record.index}: {record.label}")
    try:
        recorder = _recorder(engine, run_id, record_id)
        call = CallOptions(**{**cfg.call.__dict__, "recorder": recorder,
                              "progress": in_flight.callback(record_id)})
        outcome = generate_for_record(record, GenerationConfig(**{**cfg.__dict__, "call": call}))
        in_flight.event(record_id, {"event": "stage", "stage": "saving"})
        return _store_outcome(engine, run_id, record_id, outcome, lease, recorder.row_ids)
    finally:
        in_flight.end(record_id)


def _store_outcome(engine: Engine, run_id: int, record_id: int, outcome, lease: Lease | None = None,
                   call_ids: list[int] | None = None) -> str:
    """Store the trace (fenced by ``lease``) and link it to the model calls that made it (``call_ids``: this
    attempt's own calls; a replaced worker's late calls for the same record stay unlinked)."""
    try:
        with session_scope(engine) as session:
            if not fence(session, lease):
                raise LeaseLost(f"job {lease.job_id} was taken over by another worker; "
                                f"record {record_id} not stored")
            trace = save_trace(session, run_id=run_id, record=session.get(Record, record_id),
                               explanation=outcome.explanation, findings=outcome.findings, grounder=claim_grounder(),
                               **outcome.fields)
            mine = [LlmCall.id.in_(call_ids)] if call_ids is not None else [LlmCall.record_id == record_id]
            session.execute(update(LlmCall).where(LlmCall.run_id == run_id, LlmCall.trace_id.is_(None), *mine)
                            .values(trace_id=trace.id))
            status = trace.status
    except IntegrityError:
        # Another worker stored this record in the meantime (a stale job picked up twice): keep theirs.
        with session_scope(engine) as session:
            status = session.exec(select(Trace.status).where(Trace.run_id == run_id,
                                                             Trace.record_id == record_id)).first() or "ok"
    refresh_counts(engine, run_id)
    return status


def _preflight(engine: Engine, run: Run, cfg: GenerationConfig) -> str | None:
    """A reason the run cannot start (no key, local model won't start), or None."""
    problem = missing_key_message(cfg.choice)
    if problem:
        return problem
    if cfg.choice.is_local:
        try:
            ensure_local_model()
        except LocalModelError as exc:
            return f"the local model could not be started: {exc}"
    return None


def run_generate_job(engine: Engine, run_id: int, control: JobControl, concurrency: int | None = None,
                     on_progress: Callable[[int, int], None] | None = None, *, executor: str = "threads",
                     max_concurrent_calls: int | None = None) -> str:
    """Process a run's pending records. Returns the job's final status: 'done', 'failed',
    'cancelled', 'queued' (released on shutdown, to be resumed by the next worker), or 'lost' (another
    worker took the job over while this one was frozen: it wrote nothing after that)."""
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
    if run is None:
        raise ValueError(f"there is no run {run_id}")
    if run.status == "cancelled":
        return "cancelled"
    cfg = config_for_run(run)
    problem = _preflight(engine, run, cfg)
    if problem:
        set_run_status(engine, run_id, "failed", error=problem, lease=control.lease)
        raise RuntimeError(problem)
    lease = control.lease
    if not set_run_status(engine, run_id, "running", error=None, only_from=("queued", "running"), lease=lease):
        if not owns(engine, lease):
            control.lost.set()
            return "lost"
        return "cancelled"  # cancelled (or finished) between the claim and now
    todo = pending_record_ids(engine, run)
    _preprocess_first(engine, run, todo, control)
    if cfg.choice.is_knowledge and todo:
        _load_knowledge(engine, run_id, control.lease)
    workers = max(1, int(concurrency or (run.options or {}).get("concurrency") or 4))
    if executor == "ray":  # records as Ray tasks on a cluster; ownership, progress and status stay here
        from .ray_executor import run_pool_ray
        errors = run_pool_ray(engine, run_id, todo, control, workers, on_progress,
                              max_concurrent_calls=max_concurrent_calls)
    else:
        errors = _run_pool(engine, run_id, todo, cfg, control, workers, on_progress)
    refresh_counts(engine, run_id)
    return _finish_run(engine, run_id, control, errors)


def _preprocess_first(engine: Engine, run: Run, todo: list[int], control: JobControl) -> None:
    """With the run option ``preprocess`` (a mode such as 'ner-pubchem'), find the entities of records
    never preprocessed before generating, so the tools match entities rather than raw fields. Each record
    is stored as it is done (resumable); one that fails keeps its error and is generated from its fields."""
    mode = (run.options or {}).get("preprocess")
    if not mode or control.stop:
        return
    from ..preprocess import not_preprocessed, preprocess_records
    pending = not_preprocessed(engine, todo)
    if not pending:
        return

    def progress(done: int, total: int) -> bool:
        _job_message(engine, run.id, f"finding entities first: {done}/{total} record(s)", control.lease)
        return control.stop

    _job_message(engine, run.id, f"finding entities first: 0/{len(pending)} record(s)", control.lease)
    counts = preprocess_records(engine, pending, mode, progress=progress)
    _job_message(engine, run.id, f"entities found for {counts['done']} record(s)"
                 + (f"; {counts['failed']} failed and use their own fields" if counts["failed"] else ""),
                 control.lease)


def _load_knowledge(engine: Engine, run_id: int, lease: Lease | None = None) -> None:
    """Load the graph and GO annotations once, before the records (the first load may build the starter graph)."""
    from ..agents.assembler import load_knowledge

    _job_message(engine, run_id, "loading the knowledge graph and Gene Ontology annotations (once per process)", lease)
    kb = load_knowledge()
    missing = [r for r in (kb.graph_reason, kb.orgdb_reason) if r]
    _job_message(engine, run_id, f"knowledge loaded in {kb.load_s:.1f} s" + (f"; {'; '.join(missing)}" if missing else ""), lease)


def _job_message(engine: Engine, run_id: int, text: str, lease: Lease | None = None) -> None:
    """Show ``text`` as the message of the run's running generate job (the progress views display it);
    with ``lease``, only the owner's message is written."""
    cond = lease.conditions() if lease is not None else [Job.run_id == run_id, Job.kind == "generate",
                                                          Job.status == "running"]
    with session_scope(engine) as session:
        session.execute(update(Job).where(*cond).values(message=text))


def _run_pool(engine: Engine, run_id: int, todo: list[int], cfg: GenerationConfig, control: JobControl,
              workers: int, on_progress: Callable[[int, int], None] | None) -> list[str]:
    """Keep at most ``workers`` records in flight; stop submitting as soon as control says stop."""
    errors: list[str] = []
    pending: set[Future] = set()
    queue = list(todo)
    done = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"run{run_id}") as pool:
        while queue or pending:
            while queue and len(pending) < workers and not control.stop:
                pending.add(pool.submit(process_record, engine, run_id, queue.pop(0), cfg, control.lease, control.in_flight))
            if not pending:
                break
            finished, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in finished:
                done += 1
                try:
                    fut.result()
                except LeaseLost as exc:
                    log.warning("run %s: %s", run_id, exc)
                    control.lost.set()  # stop submitting at once; the new owner does the rest
                    done -= 1
                    continue
                except Exception as exc:  # noqa: BLE001 - a record's crash is reported, the run goes on
                    log.exception("record failed in run %s", run_id)
                    errors.append(f"{type(exc).__name__}: {exc}")
                if on_progress:
                    on_progress(done, len(todo))
    return errors


def _finish_run(engine: Engine, run_id: int, control: JobControl, errors: list[str]) -> str:
    """The run's final status, written only by the job's owner. Returns 'lost' when another worker
    took the job over (then this worker writes nothing more: the new owner finishes and verifies)."""
    lease = control.lease
    if control.lost.is_set() or not owns(engine, lease):
        control.lost.set()
        return "lost"
    if control.cancel.is_set():
        return "cancelled"
    if control.shutdown.is_set():
        set_run_status(engine, run_id, "queued", only_from=("running",), lease=lease)
        return "queued"
    # The owner may find the run 'queued' (a replaced worker released it before fencing existed, or a
    # resume raced the claim); the owner's word is final, only a user's cancel stands.
    own_from = ("queued", "running")
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        first_error = session.exec(select(Trace.errors).where(Trace.run_id == run_id, Trace.status == "failed")).first()
    if run.n_done < run.n_total:
        msg = f"{run.n_total - run.n_done} record(s) could not be processed: {errors[0] if errors else 'unknown error'}"
        set_run_status(engine, run_id, "failed", error=msg, only_from=own_from, lease=lease)
        return "failed"
    if run.n_total and run.n_failed == run.n_total:
        detail = (first_error or ["unknown error"])[0]
        set_run_status(engine, run_id, "failed", error=f"no record got an explanation; first error: {detail}",
                       only_from=own_from, lease=lease)
        return "failed"
    if _complete_and_queue_verify(engine, run_id, lease):
        return "done"
    if not owns(engine, lease):
        control.lost.set()
        return "lost"
    return "done"


def _complete_and_queue_verify(engine: Engine, run_id: int, lease: Lease | None) -> bool:
    """Mark the run done and queue its verification in ONE fenced transaction: either both happen
    (by the owner) or neither, so a run is never 'done' without its verification job."""
    with session_scope(engine) as session:
        if not fence(session, lease):
            return False
        changed = session.execute(update(Run).where(Run.id == run_id, Run.status.in_(("queued", "running")))
                                  .values(status="done", error=None, finished_at=utcnow())).rowcount == 1
        if not changed:
            return False
        existing = session.exec(select(Job).where(Job.kind == "verify", Job.run_id == run_id,
                                                  Job.status.in_(ACTIVE))).first()
        if existing is None:
            run = session.get(Run, run_id)
            verifiers = (run.options or {}).get("verifiers") if run else None  # a run may name its verifiers
            session.add(Job(kind="verify", run_id=run_id, status="queued",
                            payload={"run_id": run_id, **({"verifiers": verifiers} if verifiers else {})}))
    return True
