"""Rate limits shared by every process and host that uses the database (workers, Ray tasks, the app).

A per-process limiter multiplies a service's budget by the number of workers (three workers each
keeping to NCBI's 3 requests/s make 9). Here the schedule lives in the database:

* ``ratebucket`` holds, per key (``host:eutils.ncbi.nlm.nih.gov``, ``llm:openai``), the earliest start
  of the next request. A request reserves the next start and moves it on by one interval, in one
  transaction that first locks the row (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's write lock),
  so no two processes get the same start. A 429 pauses the key for everyone (``paused_until``).
* ``rateslot`` holds the calls in flight per key, for a cluster-wide concurrency cap; a slot carries
  an expiry, so a worker that dies holding one frees it after ``ttl_s``.

Times are epoch seconds from an injectable clock (tests check the schedule, never wall time).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .models import RateBucket, RateSlot

log = logging.getLogger(__name__)


def _lock_bucket(session: Session, key: str) -> RateBucket:
    """The key's row, locked for this transaction (created on first use by whoever comes first)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(RateBucket)
        session.execute(insert.values(key=key, next_at=0.0, paused_until=0.0).on_conflict_do_nothing())
    elif session.get(RateBucket, key) is None:  # other databases: best effort
        session.add(RateBucket(key=key, next_at=0.0, paused_until=0.0))
        session.flush()
    if dialect == "sqlite":
        # Take SQLite's write lock before reading, so the read-modify-write cannot interleave.
        session.execute(update(RateBucket).where(RateBucket.key == key).values(next_at=RateBucket.next_at))
    return session.execute(select(RateBucket).where(RateBucket.key == key).with_for_update()).scalar_one()


class SharedLimiter:
    """A rate (``rate_per_s`` request starts per second, evenly spaced) and an optional cap on calls
    in flight (``max_concurrent``) for one key, enforced across every process on ``engine``."""

    def __init__(self, engine: Engine, key: str, *, rate_per_s: float | None = None,
                 max_concurrent: int | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, slot_ttl_s: float = 600.0, poll_s: float = 0.05):
        self.engine, self.key = engine, key
        self.rate_per_s, self.max_concurrent = rate_per_s, max_concurrent
        self.clock, self.sleep = clock, sleep
        self.slot_ttl_s, self.poll_s = slot_ttl_s, poll_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def interval(self) -> float:
        return 1.0 / self.rate_per_s if self.rate_per_s else 0.0

    def reserve(self) -> float:
        """Reserve the next start for this key; returns the epoch time at which the request may start."""
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            row = _lock_bucket(session, self.key)
            start = max(now, row.next_at, row.paused_until)
            row.next_at = start + self.interval if self.interval else max(row.next_at, now)
            session.add(row)
        return start

    def wait(self) -> float:
        """Block until a request may start (by the shared schedule); returns the time slept."""
        delay = max(0.0, self.reserve() - self.clock())
        if delay > 0:
            self.sleep(delay)
        return delay

    def pause(self, seconds: float) -> None:
        """Hold every process's requests for this key for ``seconds`` (after a 429 with Retry-After)."""
        until = self.clock() + seconds
        with Session(self.engine) as session, session.begin():
            row = _lock_bucket(session, self.key)
            row.paused_until = max(row.paused_until, until)
            session.add(row)

    def try_acquire(self) -> int | None:
        """Take a slot under the concurrency cap; its id, or None when the cap is reached."""
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            _lock_bucket(session, self.key)  # serialises the count-then-insert below
            session.execute(delete(RateSlot).where(RateSlot.key == self.key, RateSlot.expires_at < now))
            held = session.execute(select(func.count()).select_from(RateSlot).where(RateSlot.key == self.key)).scalar()
            if self.max_concurrent and held >= self.max_concurrent:
                return None
            slot = RateSlot(key=self.key, holder=f"{self.holder}:{uuid.uuid4().hex[:6]}", acquired_at=now,
                            expires_at=now + self.slot_ttl_s)
            session.add(slot)
            session.flush()
            return slot.id

    def release(self, slot_id: int) -> None:
        """Give a slot back."""
        with Session(self.engine) as session, session.begin():
            session.execute(delete(RateSlot).where(RateSlot.id == slot_id))

    def in_flight(self) -> int:
        """Unexpired slots of this key (calls in flight across the cluster)."""
        with Session(self.engine) as session:
            return session.execute(select(func.count()).select_from(RateSlot).where(
                RateSlot.key == self.key, RateSlot.expires_at >= self.clock())).scalar()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one concurrency slot (when capped) and one start from the schedule for a call."""
        slot_id = None
        if self.max_concurrent:
            while (slot_id := self.try_acquire()) is None:
                self.sleep(self.poll_s)
        try:
            self.wait()
            yield
        finally:
            if slot_id is not None:
                self.release(slot_id)


_SHARED: dict[tuple, SharedLimiter] = {}
_LOCK = threading.Lock()
_WARNED: set[str] = set()


def shared_limiter(key: str, *, rate_per_s: float | None = None, max_concurrent: int | None = None,
                   engine: Engine | None = None) -> SharedLimiter | None:
    """The database-backed limiter for ``key`` on the configured database, or None when shared limits
    are switched off (``SHARED_RATE_LIMITS=false``) or the database cannot be opened (then callers keep
    their per-process limiter, and a warning says so once)."""
    from ..kernel.settings import get_settings

    settings = get_settings()
    if not getattr(settings, "shared_rate_limits", True):
        return None
    try:
        if engine is None:
            from .engine import get_engine
            engine = get_engine()
    except Exception as exc:  # noqa: BLE001 - a limiter must never stop a request
        if key not in _WARNED:
            _WARNED.add(key)
            log.warning("shared rate limit for %s unavailable (%s); using this process's limit", key, exc)
        return None
    ident = (engine.url.render_as_string(hide_password=False), key)
    with _LOCK:
        lim = _SHARED.get(ident)
        if lim is None:
            lim = _SHARED[ident] = SharedLimiter(engine, key, rate_per_s=rate_per_s, max_concurrent=max_concurrent)
        else:
            lim.rate_per_s = rate_per_s if rate_per_s is not None else lim.rate_per_s
            lim.max_concurrent = max_concurrent if max_concurrent is not None else lim.max_concurrent
        return lim


def forget_shared_limiters() -> None:
    """Drop cached limiters (tests that switch databases)."""
    with _LOCK:
        _SHARED.clear()
