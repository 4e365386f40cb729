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
    from .engine import is_sqlite_file

    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    if not is_sqlite_file(url):
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


def _space_error(exc: BaseException, dest: Path) -> BackupError | None:
    """A one-line BackupError when ``exc`` means the disk is full, else None."""
    import errno

    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or "disk is full" in text \
            or "disk i/o error" in text:
        return BackupError(f"not enough space for a copy of the database in {dest.parent}; free some space or "
                           "choose another place (nothing was kept)")
    return None


def _copy(src_path: Path, dest_path: Path, *, check: bool = False) -> tuple[str | None, int, int] | None:
    """Online-backup ``src_path`` into a new self-contained file ``dest_path`` (atomic rename).

    The copy is written to a hidden ``.partial`` file, which is removed whatever goes wrong (a full
    disk, an interruption); with ``check`` it must pass :func:`inspect_file` before it is renamed, so
    a copy that fails its check never reaches ``dest_path``."""
    tmp = dest_path.with_name(f".{dest_path.name}.{os.getpid()}.partial")
    tmp.unlink(missing_ok=True)
    try:
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
        checked = inspect_file(tmp) if check else None
        os.replace(tmp, dest_path)
        return checked
    except BackupError:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise _space_error(exc, dest_path) or BackupError(
            f"the copy to {dest_path} failed ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
            "nothing was kept") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass


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
    # checked before it is renamed: a copy that fails its check is never left at ``dest``
    revision, n_cur, n_tr = _copy(src, dest, check=True)
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


# What a restore reports as not held by the restored copy: table -> what the rows are called.
MISSING_KINDS = {"curation": "judgments", "trace": "traces", "run": "runs", "record": "records", "batch": "batches",
                 "verdict": "verdicts"}


@dataclass
class RestoreResult(BackupResult):
    """A restore: besides the counts, what the replaced database held that the restored copy does not
    (``missing``: kind -> rows, kept in ``side_copy``) and how many of those judgments are on traces and
    claims the restored copy holds (``recoverable``: :func:`vcr_core.curation.bring_back_judgments`)."""

    missing: dict[str, int] | None = None
    recoverable: int = 0


def _tables(conn: sqlite3.Connection, schema: str) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type='table' "
                                        "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
    return {n: [r[1] for r in conn.execute(f'PRAGMA {schema}.table_info("{n}")')] for n in names}


RECOVERABLE_SQL = (
    "SELECT count(*) FROM {side}.curation s WHERE s.id NOT IN (SELECT id FROM {live}.curation) "
    "AND s.trace_id IN (SELECT id FROM {live}.trace) AND (s.claim_id IS NULL OR EXISTS "
    "(SELECT 1 FROM {live}.claim c WHERE c.id = s.claim_id AND c.trace_id = s.trace_id AND c.hash IS s.claim_hash))")


def restore_database(engine: Engine, source: str | Path) -> RestoreResult:
    """Replace the live SQLite database with the backup ``source``, safely while others use it.

    1. The backup is copied beside the database and brought up to this code's schema (the live file is
       not touched yet).
    2. The database is taken out of service: the writers' lock is held (judgments and leases wait, and
       those that waited are refused with "restored while this waited", never stored into the other
       database) and a marker file makes every other transaction fail with "being restored".
    3. In ONE write transaction on the live file: the replaced database is copied to the side copy
       ``<database>.before-restore-<UTC time>`` (nothing can commit meanwhile), what it holds that the
       backup does not is counted, every table is replaced by the backup's rows, and each table's
       AUTOINCREMENT high-water mark is set past the replaced database's largest id, so no id is ever
       handed out again for another row. A failure rolls everything back.

    Raises BackupError when ``source`` is not a VCR database, the database is not SQLite, or another
    restore is under way.
    """
    from .engine import restore_marker, upgrade_database, write_lock

    live = sqlite_path(engine)
    if live is None:
        raise BackupError(PG_GUIDANCE)
    source = Path(source).expanduser()
    revision, n_cur, n_tr = inspect_file(source)
    if live.exists() and source.resolve() == live.resolve():
        raise BackupError("the file to restore is the live database itself")
    if not live.is_file():
        raise BackupError(f"the database {live} does not exist; copy the backup there instead")
    staged = live.with_name(f".{live.name}.{os.getpid()}.restore")
    side = live.with_name(f"{live.name}.before-restore-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}")
    n = 1
    while side.exists():  # two restores in one second keep both side copies
        n += 1
        side = side.with_name(f"{side.name.split('~')[0]}~{n}")
    marker = restore_marker(live)
    if marker.exists():
        raise BackupError(f"another restore is under way ({marker} exists); wait for it, or remove that file if no "
                          "restore is running")
    try:
        _copy(source, staged)
        from .engine import make_engine

        staged_engine = make_engine(f"sqlite:///{staged}")
        try:
            upgrade_database(staged_engine)  # an older backup is brought up to this code's schema
        finally:
            staged_engine.dispose()
        with write_lock(engine):
            try:
                fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                raise BackupError(f"another restore is under way ({marker} exists); wait for it, or remove that "
                                  "file if no restore is running") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
            try:
                missing, recoverable = _replace_in_one_transaction(live, staged, side)
            finally:
                generation = live.with_name(live.name + ".restored")
                with open(generation, "a", encoding="utf-8") as fh:  # writers that waited see it changed
                    fh.write(f"{datetime.now(timezone.utc).isoformat()} {source}\n")
                marker.unlink(missing_ok=True)
    finally:
        for leftover in (staged, staged.with_name(staged.name + "-wal"), staged.with_name(staged.name + "-shm"),
                         staged.with_name(staged.name + "-journal")):
            leftover.unlink(missing_ok=True)
    return RestoreResult(path=live, bytes=live.stat().st_size, revision=revision, curations=n_cur, traces=n_tr,
                         side_copy=side, missing=missing, recoverable=recoverable)


def _replace_in_one_transaction(live: Path, staged: Path, side: Path) -> tuple[dict[str, int], int]:
    conn = sqlite3.connect(str(live), timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("ATTACH DATABASE ? AS restored", (str(staged),))
        conn.execute("BEGIN IMMEDIATE")  # other writers wait from here; readers see the old database until COMMIT
        try:
            _copy(live, side)  # a reader's snapshot: everything committed, and nothing can commit meanwhile
            ours, theirs = _tables(conn, "main"), _tables(conn, "restored")
            missing = {}
            for table, kind in MISSING_KINDS.items():
                if table in ours and table in theirs:
                    missing[kind] = conn.execute(f'SELECT count(*) FROM main."{table}" WHERE id NOT IN '
                                                 f'(SELECT id FROM restored."{table}")').fetchone()[0]
            recoverable = conn.execute(RECOVERABLE_SQL.format(side="main", live="restored")).fetchone()[0]
            high = {t: conn.execute(f'SELECT max(id) FROM main."{t}"').fetchone()[0] or 0
                    for t, cols in ours.items() if "id" in cols}
            has_seq = conn.execute("SELECT count(*) FROM main.sqlite_master WHERE name='sqlite_sequence'").fetchone()[0]
            seq = dict(conn.execute("SELECT name, seq FROM main.sqlite_sequence").fetchall()) if has_seq else {}
            conn.execute("PRAGMA defer_foreign_keys=ON")  # checked at COMMIT, when every table is replaced
            for table in ours:
                conn.execute(f'DELETE FROM main."{table}"')
            for table, cols in ours.items():
                common = [c for c in cols if c in theirs.get(table, ())]
                if common:
                    names = ", ".join(f'"{c}"' for c in common)
                    conn.execute(f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM restored."{table}"')
            if has_seq:
                for table, top in high.items():
                    mark = max(top, seq.get(table) or 0, conn.execute(f'SELECT max(id) FROM main."{table}"').fetchone()[0] or 0)
                    if table in seq:
                        conn.execute("UPDATE main.sqlite_sequence SET seq = ? WHERE name = ?", (mark, table))
                    else:
                        conn.execute("INSERT INTO main.sqlite_sequence (name, seq) VALUES (?, ?)", (table, mark))
            problems = conn.execute("PRAGMA main.foreign_key_check").fetchall()
            if problems:
                raise BackupError(f"the backup's rows do not fit together ({len(problems)} broken reference(s), first in "
                                  f"table {problems[0][0]}); nothing was changed")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            side.unlink(missing_ok=True)
            raise
        return {k: v for k, v in missing.items() if v}, recoverable
    except sqlite3.Error as exc:
        raise _space_error(exc, live) or BackupError(
            f"the restore failed ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); nothing was changed") from None
    finally:
        conn.close()
