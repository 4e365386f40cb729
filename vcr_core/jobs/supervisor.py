"""The app's job worker as a separate process (``vcr worker``), supervised: started once, restarted
when it dies, stopped with the app.

Generation (NER, torch, eight model threads) then never runs in the process that serves pages. The
supervisor is a daemon thread: it spawns the child itself (so the child's parent-death signal is tied
to a thread that lives as long as the app), watches it, and restarts it with a growing back-off when
it exits. With ``APP_WORKER=false`` nothing is started and external ``vcr worker`` processes (or a Ray
cluster) run the queue; :func:`worker_state` then reports what the database shows of them.
"""
from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..kernel.settings import get_settings
from ..kernel.statuses import JobStatus

RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass
class SupervisorState:
    """What the Status page shows about the supervised worker."""

    running: bool = False
    pid: int | None = None
    restarts: int = 0
    started_at: float | None = None
    last_exit_code: int | None = None
    log_path: str = ""
    message: str = "not started"
    history: list[str] = field(default_factory=list)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the worker when the supervising thread's process goes (even on SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class WorkerSupervisor:
    """Keep one ``vcr worker`` process alive for ``database_url``."""

    def __init__(self, database_url: str, *, concurrency: int | None = None, poll_s: float = 1.0,
                 backoff_s: tuple[float, ...] = RESTART_BACKOFF_S, log_path: Path | None = None,
                 extra_args: list[str] | None = None):
        self.database_url = database_url
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.backoff_s = backoff_s
        self.log_path = log_path or (get_settings().cache_dir / "worker.log")
        self.extra_args = list(extra_args or [])
        self.state = SupervisorState(log_path=str(self.log_path))
        self._proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def command(self) -> list[str]:
        """The worker's command line (the same interpreter as the app)."""
        cmd = [sys.executable, "-m", "vcr_core.cli.main", "worker"]
        if self.concurrency:
            cmd += ["--concurrency", str(self.concurrency)]
        return cmd + self.extra_args

    def start(self) -> "WorkerSupervisor":
        """Start the supervising thread (which starts the worker) and return at once."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="vcr-worker-supervisor", daemon=True)
            self._thread.start()
        return self

    def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1"}
        # The worker imports this checkout's code (the app may run from a source tree).
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        with self._lock:
            self._proc = proc
            self.state.running, self.state.pid, self.state.started_at = True, proc.pid, time.time()
            self.state.message = f"running (pid {proc.pid})"
            self.state.history = (self.state.history + [f"{time.strftime('%H:%M:%S')} started pid {proc.pid}"])[-10:]

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._spawn()
            except OSError as exc:
                with self._lock:
                    self.state.running, self.state.message = False, f"could not start the worker: {exc}"
                self._stop.wait(self.backoff_s[-1])
                continue
            proc = self._proc
            started = time.monotonic()
            while not self._stop.is_set() and proc.poll() is None:
                self._stop.wait(self.poll_s)
            if self._stop.is_set():
                break
            code = proc.returncode
            # A worker that lived a while was fine: restart at once; one that keeps dying backs off.
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            delay = self.backoff_s[min(failures, len(self.backoff_s)) - 1] if failures else self.backoff_s[0]
            with self._lock:
                self.state.running, self.state.last_exit_code = False, code
                self.state.restarts += 1
                self.state.message = f"the worker exited (code {code}); restarting in {delay:g} s"
                self.state.history = (self.state.history + [f"{time.strftime('%H:%M:%S')} pid {proc.pid} exited "
                                                            f"with code {code}"])[-10:]
            self._stop.wait(delay)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the worker (SIGTERM: it finishes records in flight and releases its job) and the thread."""
        self._stop.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self.state.running = False
            self.state.message = "stopped"

    def snapshot(self) -> dict:
        """A copy of the state, safe to show."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is not None and self.state.running:
                self.state.running = False
            return asdict(self.state)


_SUPERVISORS: dict[str, WorkerSupervisor] = {}
_LOCK = threading.Lock()


def ensure_worker_process(database_url: str, concurrency: int | None = None) -> WorkerSupervisor:
    """Start (once per process and database) a supervised ``vcr worker``; safe on every page load."""
    with _LOCK:
        sup = _SUPERVISORS.get(database_url)
        if sup is None:
            sup = _SUPERVISORS[database_url] = WorkerSupervisor(database_url, concurrency=concurrency)
            if len(_SUPERVISORS) == 1:
                atexit.register(stop_worker_processes)
        return sup.start()


def stop_worker_processes() -> None:
    """Stop every supervised worker this process started."""
    with _LOCK:
        sups = list(_SUPERVISORS.values())
        _SUPERVISORS.clear()
    for sup in sups:
        sup.stop()


def worker_state(engine=None) -> dict:
    """The job worker as the Status page shows it: the supervised process (when this app runs one)
    and the workers the database has heard from in the last minutes (any host, any executor)."""
    from datetime import timedelta

    from sqlmodel import select

    from ..store import Job, get_engine, session_scope, utcnow

    settings = get_settings()
    url = settings.resolved_database_url
    with _LOCK:
        sup = _SUPERVISORS.get(url)
    out: dict = {"app_worker": bool(settings.app_worker), "supervised": sup.snapshot() if sup else None}
    try:
        with session_scope(engine or get_engine()) as s:
            recent = s.exec(select(Job.worker_id, Job.kind, Job.id, Job.status)
                            .where(Job.heartbeat_at.is_not(None), Job.heartbeat_at > utcnow() - timedelta(minutes=5),
                                   Job.status == JobStatus.RUNNING)).all()
            queued = len(s.exec(select(Job.id).where(Job.status == JobStatus.QUEUED)).all())
        out["active_jobs"] = [{"worker_id": w, "kind": k, "job_id": j} for w, k, j, _ in recent]
        out["queued_jobs"] = queued
    except Exception as exc:  # noqa: BLE001 - shown to the user
        out["error"] = str(exc)
    return out


def worker_summary(state: dict) -> tuple[bool, str, str]:
    """(ok, detail, what to do) for the Status page and `vcr status`."""
    sup = state.get("supervised")
    active = state.get("active_jobs") or []
    queued = state.get("queued_jobs", 0)
    busy = f"; {len(active)} job(s) running, {queued} queued"
    if sup:
        detail = f"separate `vcr worker` process supervised by the app: {sup['message']}"
        if sup["restarts"]:
            detail += f" (restarted {sup['restarts']} time(s); last exit code {sup['last_exit_code']})"
        return sup["running"], detail + busy + f"; log: {sup['log_path']}", \
            "" if sup["running"] else f"see the log {sup['log_path']}"
    if not state.get("app_worker"):
        hosts = sorted({(a["worker_id"] or "?").split(":")[0] for a in active})
        who = f"external workers active on {', '.join(hosts)}" if hosts else "no external worker has a job right now"
        return True, f"APP_WORKER=false: `vcr worker` processes (or a Ray cluster) run the queue; {who}{busy}", \
            ("" if active or not queued else "start `vcr worker` on a machine that reaches the database")
    return False, "the app's worker has not started yet" + busy, "open any page of the app to start it"
