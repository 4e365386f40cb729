"""ids are never handed out twice on SQLite: integer ids become AUTOINCREMENT

Without AUTOINCREMENT SQLite gives a new row the largest id in the table plus one, so after a
restore of an older backup the ids of the rows that backup does not hold (kept in the side copy) were
handed out again for other rows. With it, SQLite keeps a high-water mark per table in
``sqlite_sequence``, which restore moves past the replaced database's largest ids. PostgreSQL's
sequences never go back: nothing to do there.

Revision ID: 0006_22a
Revises: 0005
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0006_22a'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Every table with an integer ``id`` primary key, parents before children.
TABLES = ("batch", "record", "run", "trace", "claim", "verdict", "traceverdict", "curation", "job", "llmcall",
          "expressionrow", "rateslot")


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # SQLite's procedure for rebuilding a table that others reference: foreign keys off (only possible
    # outside a transaction, so what this upgrade did so far is committed first), rebuild (every row kept
    # as it was, references included), commit, foreign keys on again. A crash part-way leaves the schema
    # revision at 0005 and the rebuild runs again (it is idempotent).
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute("COMMIT")
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        existing = {r[0] for r in bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        for name in TABLES:
            if name in existing:
                with op.batch_alter_table(name, recreate="always",
                                          table_kwargs={"sqlite_autoincrement": autoincrement}):
                    pass
        if raw.in_transaction:
            raw.execute("COMMIT")
    finally:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
