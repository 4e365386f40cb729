"""One bounded executor loop for jobs that fan out, with threads and Ray as two small adapters.

:func:`run_bounded` keeps at most ``limit`` items in flight and stops submitting as soon as the job
says stop; what runs an item is an adapter: :class:`ThreadAdapter` (a thread pool in this process) or
:class:`RayAdapter` (Ray tasks on the cluster at ``RAY_ADDRESS``, Ray's own convention; a local
cluster with a fixed number of CPUs when unset). The job itself is still owned the ordinary way: the
driver holds the lease, beats the heartbeat and writes progress and the final status, so a Ray job
shows in the app like any other. Tasks open the shared database themselves (:func:`use_database`).
Generation's and verification's tasks live with their features (``generation/generate.py``,
``verify/ray_tasks.py``); this module imports no feature.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from .queue import LeaseLost

log = logging.getLogger(__name__)

DEFAULT_OBJECT_STORE_BYTES = 200 * 1024 * 1024
# Non-secret settings a task needs; API keys are never shipped: nodes have their own environment.
FORWARDED_ENV = ("OFFLINE", "LLM_TIMEOUT_S", "LLM_MAX_RETRIES", "LLM_MAX_CONCURRENT", "SHARED_RATE_LIMITS",
                 "NER_BACKEND", "PUBMED_BACKEND", "DEFAULT_MODEL")


class Adapter(Protocol):
    """What runs one item: submit it, wait for some to finish, read a finished one's result."""

    def submit(self, item: Any) -> Any: ...

    def wait(self, handles: list[Any], timeout: float) -> list[Any]: ...

    def result(self, handle: Any) -> Any: ...


def run_bounded(items: Iterable[Any], adapter: Adapter, *, limit: int, should_stop: Callable[[], bool],
                on_result: Callable[[Any, Any, BaseException | None], None], poll_s: float = 1.0,
                first_alone: bool = False) -> None:
    """Run ``items`` through ``adapter`` with at most ``limit`` in flight; stop submitting once
    ``should_stop()`` is true (items in flight still finish). ``on_result(item, value, exc)`` is called
    in this thread for each finished item, ``exc`` being the exception it raised (or None).
    ``first_alone``: the first item runs alone and the rest start once it has finished (the first result
    is the one somebody is waiting to see, and on a small machine parallel items would share its cores)."""
    queue = list(items)
    pending: dict[Any, Any] = {}
    alone = first_alone
    while queue or pending:
        while queue and len(pending) < (1 if alone else max(1, limit)) and not should_stop():
            item = queue.pop(0)
            pending[adapter.submit(item)] = item
        if not pending:
            break
        for handle in adapter.wait(list(pending), poll_s):
            item = pending.pop(handle)
            try:
                value, exc = adapter.result(handle), None
            except Exception as err:  # noqa: BLE001 - handed to on_result, which decides
                value, exc = None, err
            on_result(item, value, exc)
            alone = False


class ThreadAdapter:
    """Items as calls of ``fn(item)`` on a thread pool of this process."""

    def __init__(self, pool: Executor, fn: Callable[[Any], Any]):
        self.pool, self.fn = pool, fn

    def submit(self, item: Any) -> Future:
        return self.pool.submit(self.fn, item)

    def wait(self, handles: list[Future], timeout: float) -> list[Future]:
        return list(wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)[0])

    def result(self, handle: Future) -> Any:
        return handle.result()


class RayAdapter:
    """Items as Ray tasks of ``fn(*args_of(item))``, retried by Ray when their worker dies.
    A task's own exception is raised as itself (Ray wraps it), so a fenced write's
    :class:`~vcr_core.jobs.queue.LeaseLost` reaches the driver as such."""

    def __init__(self, fn: Callable[..., Any], args_of: Callable[[Any], tuple], *, task_retries: int = 3,
                 retry_exceptions: bool = False):
        self.ray = ray_module()
        ensure_ray()
        self.remote = self.ray.remote(max_retries=task_retries, retry_exceptions=retry_exceptions, num_cpus=1)(fn)
        self.args_of = args_of

    def submit(self, item: Any) -> Any:
        return self.remote.remote(*self.args_of(item))

    def wait(self, handles: list[Any], timeout: float) -> list[Any]:
        return self.ray.wait(handles, num_returns=1, timeout=timeout)[0]

    def result(self, handle: Any) -> Any:
        try:
            return self.ray.get(handle)
        except Exception as exc:
            cause = getattr(exc, "cause", None) or exc
            if isinstance(cause, LeaseLost) or "LeaseLost" in str(exc):
                raise LeaseLost(str(cause)) from exc
            raise cause from None


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached (the message says what to do)."""


def ray_module():
    """The ``ray`` package, or :class:`RayUnavailable` with the install command."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable("the Ray executor needs Ray: pip install -e '.[ray]'") from exc
    return ray


def ensure_ray(address: str | None = None, num_cpus: int | None = None,
               object_store_bytes: int = DEFAULT_OBJECT_STORE_BYTES) -> str:
    """Connect to the cluster at ``address`` (default ``RAY_ADDRESS``), or start a local one with
    ``num_cpus`` CPUs (default: this machine's) and a small object store; returns a description."""
    ray = ray_module()
    if ray.is_initialized():
        return "connected"
    address = address or os.environ.get("RAY_ADDRESS") or None
    env = {"PYTHONPATH": os.pathsep.join([_code_root()] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    env.update({k: os.environ[k] for k in FORWARDED_ENV if k in os.environ})
    try:
        if address:
            ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False)
            return f"Ray cluster at {address}"
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, object_store_memory=object_store_bytes,
                 include_dashboard=False, runtime_env={"env_vars": env}, log_to_driver=False,
                 _node_ip_address="127.0.0.1")
    except Exception as exc:  # noqa: BLE001 - the reason goes to the user
        raise RayUnavailable(f"could not start or reach Ray ({address or 'local cluster'}): {exc}") from exc
    return f"local Ray cluster ({num_cpus or os.cpu_count()} CPU)"


def _code_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def use_database(database_url: str) -> None:
    """In a Ray worker: the run's database is the one whose shared rate limits the task keeps."""
    if os.environ.get("DATABASE_URL") != database_url:
        from ..kernel.settings import get_settings

        os.environ["DATABASE_URL"] = database_url
        get_settings.cache_clear()


def shutdown_ray() -> None:
    """Disconnect from (and, for a local cluster, stop) Ray."""
    try:
        import ray
    except ImportError:
        return
    if ray.is_initialized():
        ray.shutdown()
