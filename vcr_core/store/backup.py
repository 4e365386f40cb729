"""Backup and restore of the database.

SQLite: the online backup API copies a consistent snapshot while the app and workers keep writing
(WAL mode: the copy holds every transaction committed before it started, including those still in
the ``-wal`` file, which a plain file copy would lose). The copy is written to a temporary file,
switched to a self-contained rollback journal, checked (``integrity_check`` and the schema
revision) and only then renamed to the requested path.

Restore checks that the file is a VCR database (an Alembic revision this code knows), keeps the
current database as a side copy, then copies the backup into the live file through the same API
(so open connections see either the old or the new database, never a half-written file).

PostgreSQL: use ``pg_dump``/``pg_restore`` (see :data:`PG_GUIDANCE`).
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine, make_url

PG_GUIDANCE = (
    "This database is not SQLite; back it up with PostgreSQL's own tools, which take a consistent "
    "snapshot while the app writes:\n"
    "  pg_dump --format=custom --file vcr.dump \"$DATABASE_URL\"\n"
    "and restore into an empty database with:\n"
    "  pg_restore --clean --if-exists --dbname \"$DATABASE_URL\" vcr.dump\n"
    "(run `vcr db info` afterwards: it upgrades the schema and shows the counts)."
)


class BackupError(RuntimeError):
    """A backup or restore that cannot be done as asked; the message says why."""


@dataclass
class BackupResult:
    """What a backup or restore did: the file written, its size, row counts and schema revision."""

    path: Path
    bytes: int
    revision: str | None
    curations: int
    traces: int
    side_copy: Path | None = None


def sqlite_path(engine: Engine) -> Path | None:
    """The file of an SQLite engine, or None for other databases (and in-memory SQLite)."""
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def known_revisions() -> set[str]:
    """Every Alembic revision id shipped with this code."""
    from alembic.script import ScriptDirectory

    from .engine import MIGRATIONS_DIR

    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}


def inspect_file(path: Path) -> tuple[str | None, int, int]:
    """(schema revision, curations, traces) of an SQLite file; raises BackupError when it is not a VCR database."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite database file")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables or "curation" not in tables:
            raise BackupError(f"{path} is an SQLite file but not a VCR database (no schema revision)")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
        if revision not in known_revisions():
            raise BackupError(f"{path} has schema revision {revision!r}, which this version of VCR does not know")
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"{path} fails SQLite's integrity check: {ok}")
        n_cur = conn.execute("SELECT count(*) FROM curation").fetchone()[0]
        n_tr = conn.execute("SELECT count(*) FROM trace").fetchone()[0]
        return revision, n_cur, n_tr
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as a database: {exc}") from exc
    finally:
        conn.close()


def _copy(src_path: Path, dest_path: Path) -> None:
    """Online-backup ``src_path`` into a new self-contained file ``dest_path`` (atomic rename)."""
    tmp = dest_path.with_name(f".{dest_path.name}.{os.getpid()}.partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(str(src_path), timeout=60)
    try:
        src.execute("PRAGMA busy_timeout=60000")
        dst = sqlite3.connect(str(tmp))
        try:
            # pages=-1: one step under one read transaction, i.e. one consistent snapshot; WAL readers
            # never block the writers meanwhile.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single file, no -wal beside it
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest_path)


def backup_database(engine: Engine, dest: str | Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the live SQLite database to ``dest``, consistently, while others write.

    Raises BackupError for PostgreSQL (message: :data:`PG_GUIDANCE`), a missing database or an
    existing ``dest`` without ``overwrite``.
    """
    src = sqlite_path(engine)
    if src is None:
        raise BackupError(PG_GUIDANCE)
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / f"vcr-backup-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.db"
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} already exists; choose another name or pass --force")
    if dest.resolve() == src.resolve():
        raise BackupError("the backup cannot be the live database itself")
    if not src.is_file():
        raise BackupError(f"the database {src} does not exist yet; nothing to back up")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _copy(src, dest)
    revision, n_cur, n_tr = inspect_file(dest)
    return BackupResult(path=dest, bytes=dest.stat().st_size, revision=revision, curations=n_cur, traces=n_tr)


def backup_bytes(engine: Engine, workdir: str | Path) -> tuple[str, bytes]:
    """A fresh backup as (file name, bytes), for a download button; the temporary file is removed."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    name = f"vcr-backup-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.db"
    res = backup_database(engine, workdir / name, overwrite=True)
    try:
        return name, res.path.read_bytes()
    finally:
        res.path.unlink(missing_ok=True)


def restore_database(engine: Engine, source: str | Path) -> BackupResult:
    """Replace the live SQLite database with the backup ``source``; the previous one is kept beside it.

    The side copy is ``<database>.before-restore-<UTC time>``. Raises BackupError when ``source`` is
    not a VCR database or the database is not SQLite.
    """
    live = sqlite_path(engine)
    if live is None:
        raise BackupError(PG_GUIDANCE)
    source = Path(source).expanduser()
    revision, n_cur, n_tr = inspect_file(source)
    if live.exists() and source.resolve() == live.resolve():
        raise BackupError("the file to restore is the live database itself")
    side = None
    if live.is_file():
        side = live.with_name(f"{live.name}.before-restore-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}")
        _copy(live, side)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(str(live), timeout=60)
        try:
            dst.execute("PRAGMA busy_timeout=60000")
            src.backup(dst, pages=-1)
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    from .engine import dispose_engines, upgrade_database

    dispose_engines()  # pooled connections of this process forget cached pages and schema
    upgrade_database(engine)  # an older backup is brought up to this code's schema
    return BackupResult(path=live, bytes=live.stat().st_size, revision=revision, curations=n_cur, traces=n_tr,
                        side_copy=side)
