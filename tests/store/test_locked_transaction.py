"""The writers' queue (issue 21): only the transaction runs under the lock; the pool checkout and SQLite's
WAL checkpoint happen outside it, so every other curator waits less."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from vcr_core.store import engine as store_engine
from vcr_core.store import get_engine, locked_transaction


@pytest.fixture
def traced(tmp_path, monkeypatch):
    """A fresh SQLite engine whose driver connections log every statement they run, and a write lock that
    logs when it is taken and released, in one list, in order."""
    events: list[str] = []
    engine = get_engine(f"sqlite:///{tmp_path / 'q.db'}")
    engine.dispose()  # new connections from here on carry the trace callback
    event.listen(engine, "connect", lambda dbapi_conn, _rec: dbapi_conn.set_trace_callback(events.append))
    original = store_engine.write_lock

    @contextmanager
    def logged_lock(e):
        with original(e):
            events.append("LOCK TAKEN")
            yield
            events.append("LOCK RELEASED")

    monkeypatch.setattr(store_engine, "write_lock", logged_lock)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    events.clear()
    return engine, events


def test_commits_on_success_and_rolls_back_on_error(traced):
    engine, _ = traced
    with locked_transaction(engine) as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(RuntimeError), locked_transaction(engine) as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("a judgment fails half way")
    with locked_transaction(engine) as conn:  # the lock was released on the error
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [1]


def test_the_wal_checkpoint_runs_after_the_lock_is_released_on_its_schedule(traced, monkeypatch):
    engine, events = traced
    monkeypatch.setattr(store_engine, "CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(store_engine, "_LOCKED_COMMITS", {})
    seen = []
    for i in range(6):
        with locked_transaction(engine) as conn:
            seen.append(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
            conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": i})
    assert seen == [0] * 6  # no automatic checkpoint at commit, under the lock
    checkpoints = [i for i, e in enumerate(events) if e.startswith("PRAGMA wal_checkpoint")]
    assert len(checkpoints) == 2  # the 3rd and 6th transactions
    released = [i for i, e in enumerate(events) if e == "LOCK RELEASED"]
    assert checkpoints[0] > released[2] and checkpoints[1] > released[5]
    taken = [i for i, e in enumerate(events) if e == "LOCK TAKEN"]
    assert checkpoints[0] < taken[3]  # done before the next transaction takes the lock, outside any of them
    commits = [i for i, e in enumerate(events) if e == "COMMIT"]
    assert len(commits) == len(taken) == 6
    assert all(t < c < r for t, c, r in zip(taken, commits, released))  # the commit itself is under the lock
    # the pooled connection is given back with SQLite's automatic checkpoint on, for other writers
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000


def test_a_failed_checkpoint_never_fails_the_committed_transaction(traced, monkeypatch, caplog):
    import sqlite3

    engine, _ = traced
    monkeypatch.setattr(store_engine, "CHECKPOINT_EVERY", 1)

    def deny_checkpoints(action, arg1, *_rest):
        return sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_PRAGMA and arg1 == "wal_checkpoint" else sqlite3.SQLITE_OK

    engine.dispose()
    event.listen(engine, "connect", lambda dbapi_conn, _rec: dbapi_conn.set_authorizer(deny_checkpoints))
    with caplog.at_level("WARNING", logger="vcr_core.store.engine"), locked_transaction(engine) as conn:
        conn.execute(text("INSERT INTO t VALUES (7)"))
    assert "WAL checkpoint after a locked transaction failed" in caplog.text
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [7]
