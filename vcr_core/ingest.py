"""Ingest: validate a whole file of perturbation records, then store it all or nothing.

The same functions serve ``vcr ingest`` and the upload page. Problems name the record index and
the field path; the same file (by content hash) ingested twice adds nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from .records import Record, RecordProblem, parse_records, preprocessing_output
from .settings import get_settings
from .store import Batch, session_scope
from .store import Record as RecordRow


@dataclass
class IngestReport:
    """Result of validation: normalised records, every problem, and the file's content hash."""

    records: list[Record] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    content_hash: str = ""

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

    @property
    def ok(self) -> bool:
        return not self.problems


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null for a missing number)")


def decode_json(data: bytes) -> tuple[Any, list[RecordProblem]]:
    """Strict JSON decoding: UTF-8 only, no NaN/Infinity; problems say where decoding failed."""
    try:
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [RecordProblem(message=f"the file is not UTF-8 text (byte {exc.start} cannot be decoded); "
                                            "save it as UTF-8 and upload again")]
    if not text.strip():
        return None, [RecordProblem(message="the file is empty")]
    try:
        return json.loads(text, parse_constant=_reject_constant), []
    except json.JSONDecodeError as exc:
        return None, [RecordProblem(message=f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
    except ValueError as exc:
        return None, [RecordProblem(message=str(exc))]
    except RecursionError:
        return None, [RecordProblem(message="the JSON is nested too deeply to read")]


def validate_bytes(data: bytes, filename: str | None = None, max_mb: float | None = None) -> IngestReport:
    """Check a whole file without storing anything."""
    max_mb = get_settings().max_upload_mb if max_mb is None else max_mb
    report = IngestReport(content_hash=hashlib.sha256(data).hexdigest())
    if len(data) > max_mb * 1024 * 1024:
        report.problems.append(RecordProblem(
            message=f"the file is {len(data) / 1024 / 1024:.1f} MB, above the {max_mb:g} MB limit (setting MAX_UPLOAD_MB)"))
        return report
    if filename and not filename.lower().endswith(".json"):
        report.problems.append(RecordProblem(message=f"{filename!r} is not a .json file; records are uploaded as JSON"))
        return report
    obj, problems = decode_json(data)
    if problems:
        report.problems = problems
        return report
    report.records, report.problems = parse_records(obj)
    if not report.records and not report.problems:
        report.problems.append(RecordProblem(message="the file holds no records"))
    return report


def record_row(batch_id: int, rec: Record, position: int) -> RecordRow:
    """The store row of a normalised record (raw kept; preprocessing output when present)."""
    pert_name = rec.perturbation.label if rec.perturbations else None
    return RecordRow(
        batch_id=batch_id, index=rec.index, position=position, label=rec.label,
        perturbation_name=pert_name, context_label=rec.context.label,
        raw=rec.raw, normalized=rec.model_dump(mode="json", exclude={"raw"}) | {"raw": {}},
        preprocessed=preprocessing_output(rec),
    )


def store_records(engine: Engine, records: list[Record], *, name: str, content_hash: str, filename: str | None,
                  created_by: str | None, kind: str = "upload") -> tuple[int, bool]:
    """Store a batch and its records in one transaction; returns (batch id, was it already there)."""
    with session_scope(engine) as session:
        existing = session.exec(select(Batch).where(Batch.content_hash == content_hash)).first()
        if existing is not None:
            return existing.id, True
        batch = Batch(name=name, content_hash=content_hash, kind=kind, source_filename=filename,
                      created_by=created_by, n_records=len(records))
        session.add(batch)
        session.flush()
        for pos, rec in enumerate(records):
            session.add(record_row(batch.id, rec, pos))
        return batch.id, False


def ingest_bytes(engine: Engine, data: bytes, *, name: str, filename: str | None = None,
                 created_by: str | None = None) -> IngestResult:
    """Validate ``data`` and, only if it has no problem at all, store it as a new batch."""
    report = validate_bytes(data, filename)
    if not report.ok:
        return IngestResult(batch_id=None, added=0, duplicate=False, problems=report.problems)
    batch_id, duplicate = store_records(engine, report.records, name=name, content_hash=report.content_hash,
                                        filename=filename, created_by=created_by)
    return IngestResult(batch_id=batch_id, added=0 if duplicate else len(report.records), duplicate=duplicate)


def ingest_file(engine: Engine, path: str | Path, *, name: str | None = None, created_by: str | None = None) -> IngestResult:
    """Ingest a file from disk (see :func:`ingest_bytes`)."""
    path = Path(path)
    return ingest_bytes(engine, path.read_bytes(), name=name or path.stem, filename=path.name, created_by=created_by)


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
