"""What a running job listens to: cancel, shutdown, a lost lease, and the records it has in flight."""
from __future__ import annotations

import threading

from .inflight import InFlight
from .queue import Lease


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


class JobContext:
    """What the worker hands a job handler that asks for it (a ``context`` keyword): the job's
    :class:`JobControl`, the worker's options, and a progress callback the heartbeat publishes."""

    def __init__(self, control: JobControl, *, concurrency: int | None = None, executor: str = "threads",
                 max_concurrent_calls: int | None = None, on_progress=None) -> None:
        self.control = control
        self.concurrency = concurrency
        self.executor = executor  # 'threads' (this process) or 'ray' (items as tasks on a Ray cluster)
        self.max_concurrent_calls = max_concurrent_calls  # per provider, cluster-wide (Ray executor)
        self.on_progress = on_progress or (lambda done, total: None)
