"""Ingest: validate a whole file of perturbation records, then store it all or nothing.

The same functions serve ``vcr ingest`` and the upload page. Problems name the record index and
the field path; the same file (by content hash) ingested twice adds nothing.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine
from sqlmodel import select

from ..kernel.settings import get_settings
from ..records.model import (
    MAX_PROBLEMS,
    ProblemList,
    Record,
    RecordChecker,
    RecordProblem,
    parse_record,
    preprocessing_output,
)
from ..records.strictjson import JsonFileError, StreamReader, check_value, loads_strict
from ..store import Batch, session_scope
from ..store import Record as RecordRow


@dataclass
class IngestReport:
    """Result of validation: normalised records (when kept), the first problems and how many there
    were in all, and the file's content hash."""

    records: list[Record] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    content_hash: str = ""
    problem_count: int = 0
    n_records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class IngestResult:
    """Result of ingest: the batch (new or already present), how many records were added, problems."""

    batch_id: int | None
    added: int
    duplicate: bool
    problems: list[RecordProblem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def decode_json(data: bytes) -> tuple[Any, list[RecordProblem]]:
    """Strict JSON decoding of a whole document (UTF-8 only, no NaN/Infinity/1e999, no lone
    surrogate, no repeated key); problems say where."""
    try:
        value, issues = loads_strict(data)
    except JsonFileError as exc:
        return None, [RecordProblem(position=exc.position, message=str(exc))]
    if issues:
        return None, [RecordProblem(path=path, message=msg) for path, msg in issues[:MAX_PROBLEMS]]
    return value, []


def _size_problem(size: int, max_mb: float) -> RecordProblem | None:
    if size > max_mb * 1024 * 1024:
        return RecordProblem(message=f"the file is {size / 1024 / 1024:.1f} MB, above the {max_mb:g} MB limit "
                                     "(setting MAX_UPLOAD_MB); nothing was read")
    return None


def _not_json_name(filename: str | None) -> RecordProblem | None:
    if filename and not filename.lower().endswith(".json"):
        return RecordProblem(message=f"{filename!r} is not a .json file; records are uploaded as JSON")
    return None


def _iter_checked(stream: BinaryIO, problems: ProblemList, out: dict | None = None) -> Iterator[tuple[int, Any]]:
    """(position, strictly valid decoded record object) for every element of the file; problems
    (strictness, syntax, top level) go to ``problems``; ``out['hash']`` is set to the bytes' SHA-256."""
    reader = StreamReader(stream, max_item_mb=get_settings().max_upload_mb)
    try:
        for item in reader.items():
            if item.top_level not in ("list", "object"):
                problems.add(RecordProblem(message="the top level must be a list of records or one record object, "
                                                   f"found {item.top_level}"))
                return
            issues = check_value(item.value)
            if issues:
                for path, msg in issues:
                    problems.add(RecordProblem(position=item.position, path=path, message=msg))
                continue
            yield item.position, item.value
    except JsonFileError as exc:
        problems.add(RecordProblem(position=exc.position, message=str(exc)))
    finally:
        if out is not None:
            out["hash"] = reader.sha.hexdigest()


def validate_stream(stream: BinaryIO, *, keep_records: bool = True) -> IngestReport:
    """Check a whole file, reading it once in bounded memory; nothing is stored.

    ``keep_records=False`` keeps only the indices seen (for the duplicate check), so memory does
    not grow with the file.
    """
    checker = RecordChecker()
    report = IngestReport()
    out: dict = {}
    for pos, obj in _iter_checked(stream, checker.problems, out):
        rec = checker.check(obj, pos)
        if keep_records and rec is not None:
            report.records.append(rec)
    report.content_hash = out.get("hash", "")
    report.n_records = checker.n_records
    report.problems, report.problem_count = checker.problems.listed(), checker.problems.count
    if not report.n_records and not report.problems:
        report.problems.append(RecordProblem(message="the file holds no records"))
        report.problem_count = 1
    return report


def validate_bytes(data: bytes, filename: str | None = None, max_mb: float | None = None) -> IngestReport:
    """Check a whole file without storing anything."""
    max_mb = get_settings().max_upload_mb if max_mb is None else max_mb
    first = _size_problem(len(data), max_mb) or _not_json_name(filename)
    if first:
        return IngestReport(problems=[first], problem_count=1, content_hash=hashlib.sha256(data).hexdigest())
    return validate_stream(io.BytesIO(data))


def record_row(batch_id: int, rec: Record, position: int) -> RecordRow:
    """The store row of a normalised record (raw kept; preprocessing output when present)."""
    from ..curation.compare import identity_key

    pert_name = rec.perturbation.label if rec.perturbations else None
    normalized = rec.model_dump(mode="json", exclude={"raw"}) | {"raw": {}}
    return RecordRow(
        batch_id=batch_id, index=rec.index, position=position, label=rec.label,
        perturbation_name=pert_name, context_label=rec.context.label,
        identity_key=identity_key(normalized, pert_name, rec.context.label) if pert_name else None,
        raw=rec.raw, normalized=normalized, preprocessed=preprocessing_output(rec),
    )


def store_records(engine: Engine, records: Iterable[Record] | list[Record], *, name: str, content_hash: str,
                  filename: str | None, created_by: str | None, kind: str = "upload", n_records: int | None = None) -> tuple[int, bool]:
    """Store a batch and its records in one transaction; returns (batch id, was it already there).

    ``records`` may be an iterator: rows are flushed in chunks and released, so memory stays flat.
    """
    with session_scope(engine) as session:
        existing = session.exec(select(Batch).where(Batch.content_hash == content_hash)).first()
        if existing is not None:
            return existing.id, True
        if n_records is None:
            records = list(records)
            n_records = len(records)
        batch = Batch(name=name, content_hash=content_hash, kind=kind, source_filename=filename,
                      created_by=created_by, n_records=n_records)
        session.add(batch)
        session.flush()
        batch_id = batch.id
        for pos, rec in enumerate(records):
            session.add(record_row(batch_id, rec, pos))
            if pos % 500 == 499:
                session.flush()
                session.expunge_all()  # flushed rows need not stay in memory until the commit
        return batch_id, False


def _ingest_stream(engine: Engine, open_stream: Callable[[], BinaryIO], *, name: str, filename: str | None,
                   created_by: str | None) -> IngestResult:
    """Two passes over the file: check everything (nothing kept but the indices), then store."""
    with open_stream() as fh:
        report = validate_stream(fh, keep_records=False)
    if not report.ok:
        return IngestResult(batch_id=None, added=0, duplicate=False, problems=report.problems,
                            problem_count=report.problem_count)

    def records() -> Iterator[Record]:
        with open_stream() as fh2:
            problems = ProblemList()
            for pos, obj in _iter_checked(fh2, problems):
                rec, _ = parse_record(obj, pos)
                if rec is not None:
                    yield rec
            if problems.count:  # the file changed between the passes: roll the whole batch back
                raise ValueError(f"{filename or name} changed while it was being stored; nothing was stored")

    batch_id, duplicate = store_records(engine, records(), name=name, content_hash=report.content_hash,
                                        filename=filename, created_by=created_by, n_records=report.n_records)
    return IngestResult(batch_id=batch_id, added=0 if duplicate else report.n_records, duplicate=duplicate)


def ingest_bytes(engine: Engine, data: bytes, *, name: str, filename: str | None = None,
                 created_by: str | None = None) -> IngestResult:
    """Validate ``data`` and, only if it has no problem at all, store it as a new batch."""
    first = _size_problem(len(data), get_settings().max_upload_mb) or _not_json_name(filename)
    if first:
        return IngestResult(batch_id=None, added=0, duplicate=False, problems=[first], problem_count=1)
    return _ingest_stream(engine, lambda: io.BytesIO(data), name=name, filename=filename, created_by=created_by)


def ingest_file(engine: Engine, path: str | Path, *, name: str | None = None, created_by: str | None = None) -> IngestResult:
    """Ingest a file from disk (see :func:`ingest_bytes`): its size is checked before a byte is read,
    and it is read as a stream (memory does not grow with the file)."""
    path = Path(path)
    first = _size_problem(path.stat().st_size, get_settings().max_upload_mb) or _not_json_name(path.name)
    if first:
        return IngestResult(batch_id=None, added=0, duplicate=False, problems=[first], problem_count=1)
    return _ingest_stream(engine, lambda: open(path, "rb"), name=name or path.stem, filename=path.name,
                          created_by=created_by)


def batch_labels(engine: Engine) -> dict[int, str]:
    """Batch id -> a label for pickers ("#3 demo (5 records, tahoe)"), newest first."""
    from sqlmodel import Session

    with Session(engine) as s:
        rows = s.exec(select(Batch).order_by(Batch.id.desc())).all()
    return {b.id: f"#{b.id} {b.name} ({b.n_records} records, {b.kind})" for b in rows}


def record_labels(engine: Engine, *, batch_id: int | None = None, record_ids: list[int] | None = None) -> dict[int, str]:
    """Record id -> "index: label" of a batch's records (in file order) or of the given records."""
    from sqlmodel import Session

    q = select(RecordRow)
    if batch_id is not None:
        q = q.where(RecordRow.batch_id == batch_id)
    if record_ids is not None:
        q = q.where(RecordRow.id.in_(record_ids))
    with Session(engine) as s:
        return {r.id: f"{r.index}: {r.label}" for r in s.exec(q.order_by(RecordRow.position, RecordRow.id)).all()}


def batch_summaries(engine: Engine) -> list[dict[str, Any]]:
    """Every batch, newest first, with how many of its records are preprocessed or failed preprocessing."""
    from sqlalchemy import case, func
    from sqlmodel import Session

    done = func.sum(case((RecordRow.preprocessed_at.is_not(None) & RecordRow.preprocess_error.is_(None), 1), else_=0))
    failed = func.sum(case((RecordRow.preprocess_error.is_not(None), 1), else_=0))
    with Session(engine) as s:
        counts = {bid: (int(d or 0), int(f or 0)) for bid, d, f in
                  s.exec(select(RecordRow.batch_id, done, failed).group_by(RecordRow.batch_id)).all()}
        batches = s.exec(select(Batch).order_by(Batch.id.desc())).all()
    return [{"id": b.id, "name": b.name, "kind": b.kind, "records": b.n_records, "preprocessed": counts.get(b.id, (0, 0))[0],
             "preprocess_failed": counts.get(b.id, (0, 0))[1], "created_at": b.created_at.strftime("%Y-%m-%d %H:%M")}
            for b in batches]
