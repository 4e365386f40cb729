"""``vcr db copy --to URL``: move a database (SQLite, usually) into another one (PostgreSQL, usually).

The target is migrated to the latest schema first, must be empty, and receives every table the
application knows, in foreign-key order, with ids kept (so curations, verdicts and traces keep
pointing at the same rows). On PostgreSQL the id sequences are then moved past the copied ids, so
the next insert does not collide. The copy is checked by counting rows on both sides.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from ..kernel.textsafe import storable
from . import models  # noqa: F401  (registers the tables)
from .engine import make_engine, redact_url, upgrade_database

CHUNK = 2000
# Transient coordination rows are not data: rate-limit buckets and slots are per deployment.
SKIP = {"alembic_version", "ratebucket", "rateslot"}


class CopyError(RuntimeError):
    """The copy cannot start (target not empty, unreachable) or did not match afterwards."""


def _tables():
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in SKIP]


def copy_database(source: Engine, target_url: str, *, progress: Callable[[str, int], None] | None = None,
                  replaced: list[str] | None = None) -> dict[str, int]:
    """Copy every table of ``source`` into the (empty) database at ``target_url``; returns rows per table.

    Text one supported database cannot store (a NUL character, which SQLite keeps and PostgreSQL
    refuses; a lone surrogate) is replaced by U+FFFD, whatever the target; ``replaced`` receives one
    line per changed row (table, id, columns).

    Raises :class:`CopyError` when the target already holds rows or the counts differ afterwards.
    """
    target = make_engine(target_url)
    try:
        upgrade_database(target)
        tables = _tables()
        with target.connect() as conn:
            busy = {t.name: n for t in tables if (n := conn.execute(select(func.count()).select_from(t)).scalar())}
        if busy:
            raise CopyError(f"the target {redact_url(target_url)} already holds data ({busy}); copy into an empty "
                            "database")
        known = set(inspect(source).get_table_names())
        counts: dict[str, int] = {}
        with source.connect() as src, target.begin() as dst:
            for table in tables:
                if table.name not in known:
                    counts[table.name] = 0
                    continue
                n = 0
                result = src.execution_options(stream_results=True).execute(select(table).order_by(*table.primary_key.columns))
                while rows := result.fetchmany(CHUNK):
                    batch = []
                    for r in rows:
                        row, changed = storable(dict(r._mapping))
                        if changed and replaced is not None:
                            replaced.append(f"{table.name} {row.get('id', '')}: "
                                            + ", ".join(c.split(".")[0] for c in changed[:3]))
                        batch.append(row)
                    dst.execute(table.insert(), batch)
                    n += len(rows)
                counts[table.name] = n
                if progress:
                    progress(table.name, n)
            if target.dialect.name == "postgresql":
                _fix_sequences(dst, tables)
        with target.connect() as conn:
            after = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in tables}
        wrong = {k: (counts[k], after[k]) for k in counts if counts[k] != after[k]}
        if wrong:
            raise CopyError(f"row counts differ after the copy (source, target): {wrong}")
        return counts
    finally:
        target.dispose()


def _fix_sequences(conn, tables) -> None:
    """Move each serial id sequence past the largest copied id (explicit ids do not advance it)."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id" or not pk[0].autoincrement:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if seq:
            conn.execute(text(f'SELECT setval(:s, coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'),
                         {"s": seq})
