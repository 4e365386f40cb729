"""The generate job: every record of a run not yet done, with bounded concurrency.

Each record is stored in one transaction (trace, claims, links to its model calls), so a worker
killed at any moment leaves either a complete trace or none; the next worker skips the done ones.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ..agents import CallOptions, GenerationConfig, generate_for_record
from ..curation.core import context_keys, ground_entity, warm
from ..curation.reuse import after_save
from ..jobs.control import JobControl
from ..jobs.executor import RayAdapter, ThreadAdapter, run_bounded, use_database
from ..jobs.inflight import InFlight
from ..jobs.queue import ACTIVE, Lease, LeaseLost, fence, owns
from ..kernel.statuses import JobStatus, TraceStatus
from ..knowledge.genes import claim_grounder
from ..llm import CallInfo, LocalModelError, ensure_local_model, missing_key_message
from ..llm.models import choice_for_run
from ..store import Job, LlmCall, Record, Run, Trace, session_scope, utcnow
from ..store.traces import record_model, save_trace
from .runs import refresh_counts, set_run_status

log = logging.getLogger(__name__)


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
    return [rid for rid in (run.record_ids or []) if done.get(rid) in (None, TraceStatus.FAILED)]


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
    _warm_cores(engine, record_id, outcome.explanation)
    try:
        with session_scope(engine) as session:
            if not fence(session, lease):
                raise LeaseLost(f"job {lease.job_id} was taken over by another worker; "
                                f"record {record_id} not stored")
            trace = save_trace(session, run_id=run_id, record=session.get(Record, record_id),
                               explanation=outcome.explanation, findings=outcome.findings, grounder=claim_grounder(),
                               **outcome.fields)
            _cores_at_save(session, trace)
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


def _warm_cores(engine: Engine, record_id: int, explanation) -> None:
    """Ground the record's perturbation and cell line and the explanation's claims before the saving
    transaction (the first grounding loads the vocabularies; inside the transaction it would hold the
    database's write lock that long). A failure here only means grounding happens at save."""
    if explanation is None:  # a failed parse has no claims to ground
        return
    try:
        with session_scope(engine) as session:
            context_keys(session.get(Record, record_id))
        warm(explanation)
    except Exception:  # noqa: BLE001 - warming is an optimisation; _cores_at_save reports real failures
        log.debug("warming the claim cores of record %s failed", record_id, exc_info=True)


def _cores_at_save(session, trace: Trace) -> None:
    """In the saving transaction: the claims' core identity and grounding, and what the team already
    decided about those cores (reuse), so a new trace shows the team's judgments at once. Should
    grounding fail, the trace is still stored (the model's answer is not lost) and its claims get their
    cores on first use (``curation.core.identify_claims``)."""
    try:
        with session.begin_nested():
            after_save(session, trace)
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("claim cores of trace %s left for later: grounding failed", trace.id, exc_info=True)


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
    if run.status == JobStatus.CANCELLED:
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
        adapter = ray_adapter(engine, run_id, control.lease, max_concurrent_calls=max_concurrent_calls)
        errors = _run_records(run_id, todo, adapter, control, workers, on_progress)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"run{run_id}") as pool:
            adapter = ThreadAdapter(pool, lambda rid: process_record(engine, run_id, rid, cfg, control.lease,
                                                                     control.in_flight))
            errors = _run_records(run_id, todo, adapter, control, workers, on_progress)
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


def warm_knowledge() -> threading.Thread | None:
    """Load the graph and GO annotations in a background thread of this (worker) process when the default
    is assembly from knowledge, so the first record does not wait for them (they take seconds to load).
    Returns the thread, or None when a model is the default (nothing to warm)."""
    from ..llm import resolve_model

    try:
        if not resolve_model().is_knowledge:
            return None
    except (ImportError, ValueError):
        return None
    from ..agents.assembler import load_knowledge

    def load() -> None:
        kb = load_knowledge()
        if kb is not None:  # the worker's log says when the first record stops waiting
            missing = "; ".join(r for r in (kb.graph_reason, kb.orgdb_reason) if r)
            print(f"{time.strftime('%H:%M:%S')} knowledge loaded in {kb.load_s:.1f} s" + (f" ({missing})" if missing else ""),
                  flush=True)
        warm_grounding()

    thread = threading.Thread(target=load, name="vcr-knowledge-warmup", daemon=True)
    thread.start()
    return thread


def warm_grounding() -> None:
    """Load what storing a trace grounds with (the NER vocabularies: about a second from their caches), so the
    first trace stored does not wait for it; a failure only means the first save loads them."""
    try:
        for name, kinds in (("imatinib", ("chemical", "gene")), ("ABL1", ("gene",)), ("K562", ("cell_line",))):
            ground_entity(name, kinds)
    except Exception:  # noqa: BLE001 - an optimisation: the save reports real failures
        log.debug("warming the grounding vocabularies failed", exc_info=True)


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
                                                          Job.status == JobStatus.RUNNING]
    with session_scope(engine) as session:
        session.execute(update(Job).where(*cond).values(message=text))


def _run_records(run_id: int, todo: list[int], adapter, control: JobControl, workers: int,
                 on_progress: Callable[[int, int], None] | None) -> list[str]:
    """Keep at most ``workers`` records in flight (the jobs' executor loop); stop submitting as soon as
    control says stop. Returns the errors of records that failed outright."""
    errors: list[str] = []
    done = 0

    def on_result(record_id: int, _value, exc: BaseException | None) -> None:
        nonlocal done
        if isinstance(exc, LeaseLost):
            log.warning("run %s: %s", run_id, exc)
            control.lost.set()  # stop submitting at once; the new owner does the rest
            return
        done += 1
        if exc is not None:  # a record's crash is reported, the run goes on
            from ..kernel.failures import user_message

            known = user_message(exc)  # a full disk: one line, without the statement and the record's text
            line = known or f"{type(exc).__name__}: {exc}"[:500]
            log.warning("record %s failed in run %s: %s", record_id, run_id, line)
            errors.append(line)
        if on_progress:
            on_progress(done, len(todo))

    run_bounded(todo, adapter, limit=workers, should_stop=lambda: control.stop, on_result=on_result)
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
        first_error = session.exec(select(Trace.errors).where(Trace.run_id == run_id, Trace.status == TraceStatus.FAILED)).first()
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


# --- A run's records as Ray tasks (``vcr generate --executor ray``, ``vcr worker --executor ray``).
#
# The driver owns the run's generate job (lease, heartbeat, progress, final status). Each pending record
# becomes one Ray task that opens the shared database itself, skips its record when a trace is already
# stored (a task Ray retried after its worker died), generates, and stores the trace fenced by the
# driver's lease: after a driver failure another driver (or a plain ``vcr worker``) claims the job, and
# tasks of the old one can no longer write. Model-provider budgets are the database's shared limits, so
# they hold for the whole cluster; ``max_concurrent_calls`` caps calls in flight per provider across
# every task.

def record_task(database_url: str, run_id: int, record_id: int, lease: tuple | None,
                cluster_max: int | None = None) -> str:
    """One record, inside a Ray task: skip when already stored, else generate and store (fenced)."""
    from sqlmodel import select

    from ..llm.ratelimit import limiter_for
    from ..store import Run, Trace, get_engine, session_scope

    use_database(database_url)
    engine = get_engine(database_url, upgrade=False)
    with session_scope(engine) as session:
        done = session.exec(select(Trace.status).where(Trace.run_id == run_id, Trace.record_id == record_id)).first()
        run = session.get(Run, run_id)
    if done in (TraceStatus.OK, TraceStatus.INVALID):
        return done  # a retry of a task whose worker died after storing: the record is done once
    cfg = config_for_run(run)
    if cluster_max:
        limiter_for(cfg.choice.provider, cluster_max=cluster_max)
    return process_record(engine, run_id, record_id, cfg, Lease(*lease) if lease else None)


def ray_adapter(engine: Engine, run_id: int, lease: Lease | None, *, max_concurrent_calls: int | None = None,
                task_retries: int = 3) -> RayAdapter:
    """The executor adapter that runs each record id of ``run_id`` as a :func:`record_task`."""
    url = engine.url.render_as_string(hide_password=False)
    lease_t = (lease.job_id, lease.worker_id, lease.epoch) if lease else None
    return RayAdapter(record_task, lambda rid: (url, run_id, rid, lease_t, max_concurrent_calls),
                      task_retries=task_retries)
