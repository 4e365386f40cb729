"""The background worker: claims jobs from the database and runs them, outside any page.

One worker runs one job at a time (a generate job fans out to ``concurrency`` threads). A
heartbeat thread refreshes the job row every couple of seconds and passes on cancel requests, so
``vcr runs`` and the app can show live progress and tell a dead worker from a busy one.

Run it as ``vcr worker`` (a process) or let the app start one with ``ensure_worker`` (a thread).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable

from sqlalchemy.engine import Engine

from ..kernel.statuses import JobStatus
from ..store import Job, session_scope
from ..store.engine import DatabaseRestoring
from .control import JobContext, JobControl
from .queue import (
    HEARTBEAT_S,
    STALE_AFTER_S,
    Clock,
    Lease,
    LeaseLost,
    claim,
    finish,
    heartbeat,
    lease_of,
    new_worker_id,
)

log = logging.getLogger(__name__)

class Worker:
    """A job loop. ``run()`` blocks until ``stop()`` (or, with ``exit_when_idle``, an empty queue)."""

    def __init__(self, engine: Engine, *, concurrency: int | None = None, poll_s: float = 1.0,
                 stale_after_s: float = STALE_AFTER_S, heartbeat_s: float = HEARTBEAT_S,
                 exit_when_idle: bool = False, kinds: tuple[str, ...] | None = None,
                 on_progress: Callable[[Job, int, int], None] | None = None, clock: Clock | None = None,
                 executor: str = "threads", max_concurrent_calls: int | None = None):
        self.engine = engine
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.stale_after_s = stale_after_s
        self.heartbeat_s = heartbeat_s
        self.exit_when_idle = exit_when_idle
        self.kinds = kinds
        self.on_progress = on_progress
        self.executor = executor  # 'threads' (this process) or 'ray' (records as tasks on a Ray cluster)
        self.max_concurrent_calls = max_concurrent_calls  # per provider, cluster-wide (Ray executor)
        self.clock = clock  # decides staleness when claiming (tests jump past the heartbeat timeout)
        self.worker_id = new_worker_id()
        self._stop = threading.Event()
        self._signalled = False  # set by a signal handler (no locks there); acted on by run() and the heartbeat
        self.control: JobControl | None = None
        self.jobs_run = 0

    def stop(self) -> None:
        """Finish the records in flight, release the current job for the next worker, and exit."""
        self._stop.set()
        if self.control is not None:
            self.control.shutdown.set()

    def stop_from_signal(self) -> None:
        """Async-signal-safe stop request: only sets a flag. A handler that called :meth:`stop` could
        deadlock, because the main thread it interrupts may hold the very Event lock stop() takes;
        the run loop and the heartbeat thread turn the flag into :meth:`stop`."""
        self._signalled = True

    def _check_signal(self) -> None:
        if self._signalled and not self._stop.is_set():
            self.stop()

    def run(self) -> int:
        """Process jobs until stopped; returns how many jobs were run."""
        while not self._stop.is_set():
            self._check_signal()
            if self._stop.is_set():
                break
            try:
                ran = self.run_one()
            except DatabaseRestoring as exc:  # out of service for a while: wait, then go on (a job cut
                log.warning("%s", exc)       # short is taken up again once its heartbeat is stale)
                self._stop.wait(self.poll_s)
                continue
            if not ran:
                if self.exit_when_idle:
                    break
                self._stop.wait(self.poll_s)
        return self.jobs_run

    def run_one(self, job_id: int | None = None) -> bool:
        """Claim and run one job (``job_id`` if given); False when there was nothing to claim."""
        job = claim(self.engine, self.worker_id, job_id=job_id, kinds=self.kinds, stale_after_s=self.stale_after_s,
                    clock=self.clock)
        if job is None:
            return False
        self.jobs_run += 1
        lease = lease_of(job)
        self.control = control = JobControl(lease)
        if self._stop.is_set():
            control.shutdown.set()
        progress = {"n_done": 0, "n_total": 0}
        beat = threading.Thread(target=self._beat, args=(lease, control, progress, dict(job.payload or {})),
                                daemon=True,
                                name=f"heartbeat-{job.id}")
        beat.start()
        try:
            status, error = self._dispatch(job, control, progress)
        finally:
            control.finished.set()
            beat.join(timeout=5)
        if status != "lost" and progress["n_total"]:
            # The last progress may be newer than the last heartbeat: write it before finishing (fenced).
            try:
                heartbeat(self.engine, lease.job_id, self.worker_id, lease=lease, n_done=progress["n_done"],
                          n_total=progress["n_total"])
            except Exception:  # noqa: BLE001 - progress display only
                log.exception("final progress not written")
        if status == "lost":
            log.warning("job %s was taken over by another worker while this one was away; left to it", job.id)
        else:
            # Fenced: a worker replaced while it ran changes nothing here.
            finish(self.engine, job.id, self.worker_id, status, error=error, lease=lease,
                   message="released for the next worker" if status == JobStatus.QUEUED else None)
        self.control = None
        return True

    def _beat(self, lease: Lease, control: JobControl, progress: dict, payload: dict | None) -> None:
        """Heartbeat (fenced by ``lease``); a job with items in flight (a generate job's records) also
        publishes them in its payload."""
        while not control.finished.is_set():
            self._check_signal()  # a SIGTERM during a job: release it for the next worker
            n_done, n_total = progress["n_done"], progress["n_total"]
            values = {"n_done": n_done, "n_total": n_total}
            in_flight = control.in_flight.snapshot()
            if in_flight or "in_flight" in payload:
                payload = {**payload, "in_flight": in_flight}
                values["payload"] = payload
            if n_total:
                values["progress"] = n_done / n_total
            try:
                ours, cancel = heartbeat(self.engine, lease.job_id, self.worker_id, lease=lease, **values)
            except Exception:  # noqa: BLE001 - a locked database must not kill the heartbeat
                log.exception("heartbeat failed")
                ours, cancel = True, False
            if not ours:
                control.lost.set()
            if cancel:
                control.cancel.set()
            # Wait for the next beat in short steps, so a SIGTERM (a flag) releases the job promptly.
            next_beat = time.monotonic() + self.heartbeat_s
            while (not control.finished.is_set() and time.monotonic() < next_beat
                   and not (self._signalled and not self._stop.is_set())):
                control.finished.wait(min(0.2, self.heartbeat_s))

    def _dispatch(self, job: Job, control: JobControl, progress: dict) -> tuple[str, str | None]:
        def on_progress(done: int, total: int) -> None:
            progress.update(n_done=done, n_total=total)
            if self.on_progress:
                self.on_progress(job, done, total)

        context = JobContext(control, concurrency=self.concurrency, executor=self.executor,
                             max_concurrent_calls=self.max_concurrent_calls, on_progress=on_progress)
        try:
            return self._delegate(job, context)
        except Exception as exc:  # noqa: BLE001 - the job fails with its reason, the worker lives on
            from ..kernel.failures import user_message

            known = user_message(exc)  # a full disk, a bad setting, ...: one line, no traceback, no SQL
            if known:
                log.error("job %s failed: %s", job.id, known)
                return "failed", known
            log.exception("job %s failed", job.id)
            return "failed", f"{type(exc).__name__}: {exc}" if not isinstance(exc, RuntimeError) else str(exc)

    def _delegate(self, job: Job, context: JobContext) -> tuple[str, str | None]:
        """Run a registered job kind (``vcr.jobs`` entry point): ``handler(job_id, engine, lease=...,
        context=...)``. A handler that takes ``lease`` fences each of its writes with it and raises
        :class:`LeaseLost` once another worker owns the job; one that does not is fenced only when the
        job finishes. A handler that takes ``context`` (:class:`JobContext`) gets the job's control and
        the worker's options; one that returns a status string decides the job's final status."""
        from ..kernel.registry import JOBS, load

        try:
            handler = load(JOBS, job.kind)
        except KeyError as exc:
            return "failed", str(exc).strip("'\"")
        except ModuleNotFoundError as exc:
            return "failed", f"{job.kind} jobs are not available in this installation ({exc.name} is missing)"
        lease = context.control.lease
        kwargs = {name: value for name, value in (("lease", lease), ("context", context)) if _takes(handler, name)}
        try:
            outcome = handler(job.id, self.engine, **kwargs)
        except LeaseLost:
            return "lost", None
        if outcome in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED, "lost"):
            return outcome, None
        with session_scope(self.engine) as session:
            row = session.get(Job, job.id)
            status = row.status if row is not None else "done"
        # The delegate may have set its own final status; otherwise it finished without error.
        return (status, row.error) if status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED) else ("done", None)


def _takes(handler: Callable, name: str) -> bool:
    """True when a job handler accepts the keyword ``name`` (plug-ins written before fencing take no
    ``lease``; only handlers that fan out need ``context``)."""
    import inspect

    try:
        params = inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


_APP_WORKERS: dict[str, tuple[Worker, threading.Thread]] = {}
_APP_LOCK = threading.Lock()


def ensure_worker(engine: Engine, concurrency: int | None = None) -> Worker:
    """Start a background worker thread for ``engine`` once per process (safe on every page load)."""
    key = engine.url.render_as_string(hide_password=False)
    with _APP_LOCK:
        entry = _APP_WORKERS.get(key)
        if entry is not None and entry[1].is_alive():
            return entry[0]
        worker = Worker(engine, concurrency=concurrency)
        thread = threading.Thread(target=worker.run, name="vcr-worker", daemon=True)
        thread.start()
        _APP_WORKERS[key] = (worker, thread)
        return worker


def stop_workers(timeout: float = 10.0) -> None:
    """Stop the workers ``ensure_worker`` started (tests and clean shutdown)."""
    with _APP_LOCK:
        entries = list(_APP_WORKERS.values())
        _APP_WORKERS.clear()
    for worker, thread in entries:
        worker.stop()
    for _, thread in entries:
        thread.join(timeout)


def run_worker(engine: Engine, **kwargs) -> int:
    """Run a worker in the foreground (``vcr worker``); returns the number of jobs it ran."""
    worker = Worker(engine, **kwargs)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (systemd, docker stop): finish the records in flight and release the job.
        signal.signal(signal.SIGTERM, lambda *_: worker.stop_from_signal())
    try:
        return worker.run()
    except KeyboardInterrupt:
        worker.stop()
        return worker.jobs_run
