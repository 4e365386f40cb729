"""Ingest: all-or-nothing validation, duplicates, bad files; and the store's pragmas and migrations."""
import json

from sqlalchemy import text
from sqlmodel import Session, func, select

from vcr_core.files.ingest import ingest_bytes, validate_bytes
from vcr_core.store import Batch, Record, get_engine, schema_revision


def _records(n):
    return [{"index": i, "context": {"cell_type": "HUVEC"}, "perturbation": {"name": f"drug{i}", "target": "KDR"}} for i in range(n)]


def _count(engine, model):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_ingest_stores_batch_and_records(engine):
    res = ingest_bytes(engine, json.dumps(_records(5)).encode(), name="pilot", filename="pilot.json", created_by="ana")
    assert res.ok and res.added == 5 and not res.duplicate
    assert _count(engine, Record) == 5
    with Session(engine) as s:
        batch = s.get(Batch, res.batch_id)
        assert batch.created_by == "ana" and batch.n_records == 5


def test_one_bad_record_among_100_stores_nothing(engine):
    recs = _records(100)
    recs[57]["perturbation"] = "not an object"
    res = ingest_bytes(engine, json.dumps(recs).encode(), name="bad")
    assert not res.ok and res.batch_id is None
    assert any(p.index == "57" and p.path == "perturbation" for p in res.problems)
    assert _count(engine, Record) == 0 and _count(engine, Batch) == 0


def test_same_file_twice_adds_nothing(engine):
    data = json.dumps(_records(3)).encode()
    first = ingest_bytes(engine, data, name="a")
    second = ingest_bytes(engine, data, name="b")
    assert second.duplicate and second.batch_id == first.batch_id and second.added == 0
    assert _count(engine, Record) == 3


def test_duplicate_indices_rejected(engine):
    recs = _records(3)
    recs[2]["index"] = 0
    res = ingest_bytes(engine, json.dumps(recs).encode(), name="dup")
    assert not res.ok and any("duplicate index" in p.message for p in res.problems)
    assert _count(engine, Record) == 0


def test_rejects_nan_non_utf8_wrong_top_level_and_size():
    assert "NaN" in validate_bytes(b'[{"perturbation": {"name": "x", "dose": NaN}}]').problems[0].message
    assert "UTF-8" in validate_bytes('[{"perturbation": {"name": "caf\xe9"}}]'.encode("latin-1")).problems[0].message
    assert "top level" in validate_bytes(b'"just text"').problems[0].message
    assert "not valid JSON" in validate_bytes(b'[{"a": 1,]').problems[0].message
    big = validate_bytes(json.dumps(_records(50)).encode(), max_mb=0.001)
    assert "limit" in big.problems[0].message


def test_sqlite_pragmas_and_migrations_on_empty_database(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert schema_revision(engine) is not None
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert {"batch", "record", "run", "trace", "claim", "verdict", "curation", "job", "alembic_version"} <= tables


def test_migrations_match_models(tmp_path):
    """The migrations produce exactly the tables the models declare (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    engine = get_engine(f"sqlite:///{tmp_path / 'cmp.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
