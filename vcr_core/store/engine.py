"""Engine, sessions and schema upgrades.

SQLite runs with WAL, a busy timeout and foreign keys on, and is safe to share across threads
(Streamlit sessions, the worker). Any SQLAlchemy URL works (PostgreSQL included): the SQL is
portable and the schema is managed by Alembic migrations, applied on start by the app and CLI.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from ..kernel.settings import get_settings
from . import models  # noqa: F401  (registers the tables on SQLModel.metadata)

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_ENGINES: dict[str, Engine] = {}
_UPGRADED: set[str] = set()
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseRestoring(RuntimeError):
    """The database is being restored from a backup (or was, while this write waited): nothing was stored."""


def restore_marker(database: str | Path) -> Path:
    """The file that says a restore of the SQLite ``database`` is under way (it holds who and since when)."""
    p = Path(database).expanduser()
    return p.with_name(p.name + ".restoring")


def restore_generation(database: str | Path) -> int:
    """A number that changes each time the SQLite ``database`` is restored (0 before the first restore)."""
    p = Path(database).expanduser()
    try:
        st = os.stat(p.with_name(p.name + ".restored"))
    except OSError:
        return 0
    return st.st_mtime_ns ^ st.st_size ^ st.st_ino


def check_not_restoring(database: str | Path) -> None:
    """Raise :class:`DatabaseRestoring` while a restore of ``database`` is under way."""
    marker = restore_marker(database)
    if os.path.exists(marker):
        try:
            who = marker.read_text(encoding="utf-8").strip()[:120]
        except OSError:
            who = ""
        raise DatabaseRestoring("the database is being restored from a backup" + (f" ({who})" if who else "")
                                + "; nothing was stored: try again when the restore is done")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised via every test
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def redact_url(url: str) -> str:
    """The URL without its password, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as a placeholder, never raw
        return "<unparsable database URL>"


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` with the SQLite settings applied and key redaction on every write."""
    engine = _make_engine(url)
    from ..kernel.redact import redact_db_params

    event.listen(engine, "before_cursor_execute", redact_db_params, retval=True)
    return engine


def _make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if not db or db == ":memory:":
            kwargs["poolclass"] = StaticPool
        else:
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if db and db != ":memory:":
            path = str(Path(db).expanduser())
            # Out of service while a restore runs: every transaction (reads too) is refused with one line.
            event.listen(engine, "begin", lambda _conn: check_not_restoring(path))
        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """The shared engine for ``url`` (default: the settings' database), upgraded to the latest schema."""
    url = url or get_settings().resolved_database_url
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = make_engine(url)
        if upgrade and url not in _UPGRADED:
            upgrade_database(engine)
            _UPGRADED.add(url)
    return engine


def dispose_engines() -> None:
    """Forget cached engines (tests that switch DATABASE_URL call this)."""
    with _LOCK:
        for e in _ENGINES.values():
            e.dispose()
        _ENGINES.clear()
        _UPGRADED.clear()


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade_database(engine: Engine) -> None:
    """Apply every pending Alembic migration."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_revision(engine: Engine) -> str | None:
    """The database's current Alembic revision."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


_WRITE_LOCKS: dict[str, tuple[threading.Lock, int]] = {}


def is_sqlite_file(url: URL) -> bool:
    """Whether ``url`` is an SQLite database in a file (not in memory, not another database)."""
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


@contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """Serialise short, frequent writers (curators' judgments) on a SQLite file, across threads and
    processes, with a lock file beside the database. SQLite's own busy handler sleeps in steps of up
    to 100 ms while another process writes; a blocked ``flock`` wakes the moment the lock is free, which
    keeps judgment latency low with many curators. No-op for other databases (they lock rows)."""
    import fcntl

    u = engine.url
    if not is_sqlite_file(u):
        yield
        return
    path = str(Path(u.database).expanduser()) + ".write-lock"
    with _LOCK:
        entry = _WRITE_LOCKS.get(path)
        if entry is None or entry[1] is None:
            entry = _WRITE_LOCKS[path] = (threading.Lock(), os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    tlock, fd = entry
    database = str(Path(u.database).expanduser())
    check_not_restoring(database)
    generation = restore_generation(database)
    with tlock:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            # A restore ran while this writer waited (it holds this lock throughout): what the writer read
            # before belongs to the replaced database, so it writes nothing and says so.
            if restore_generation(database) != generation:
                raise DatabaseRestoring("the database was restored from a backup while this waited; nothing was "
                                        "stored: reload and do it again")
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


CHECKPOINT_EVERY = 16  # locked transactions per process between two WAL checkpoints (SQLite)
_LOCKED_COMMITS: dict[str, int] = {}


@contextmanager
def locked_transaction(engine: Engine) -> Iterator[Connection]:
    """One short write transaction in the writers' queue (:func:`write_lock`), committed on success.

    Only the transaction itself runs under the lock; what need not is done outside it, because every
    other curator waits while the lock is held:

    * the pooled connection is checked out before the lock is taken and returned after it is released;
    * on SQLite this connection does not checkpoint the WAL at commit (SQLite's automatic checkpoint
      copies pages into the database file there, under the lock); it runs a passive checkpoint after
      the lock is released, every ``CHECKPOINT_EVERY`` transactions, which readers and writers do not
      wait for. Other writers keep SQLite's automatic checkpoint."""
    sqlite_file = is_sqlite_file(engine.url)
    with engine.connect() as conn:
        # PRAGMAs on the driver's connection: through SQLAlchemy they would begin its transaction early
        driver = conn.connection.driver_connection if sqlite_file else None
        if driver is not None:
            driver.execute("PRAGMA wal_autocheckpoint=0")
        try:
            with write_lock(engine), conn.begin():
                yield conn
        finally:
            if driver is not None:
                driver.execute("PRAGMA wal_autocheckpoint=1000")  # SQLite's default, for the pool's next user
        if driver is not None and _checkpoint_due(str(engine.url)):
            try:
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # housekeeping: the transaction is committed, never reported as failed
                log.warning("WAL checkpoint after a locked transaction failed (a later one retries): %s", exc)


def _checkpoint_due(key: str) -> bool:
    with _LOCK:
        n = _LOCKED_COMMITS[key] = _LOCKED_COMMITS.get(key, 0) + 1
    return n % CHECKPOINT_EVERY == 0


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
