"""Read explanations from files: the text form and the original pipeline's output formats.

Formats (detected from content, not only the extension):

* structured-explanation output JSON: a list of objects with index, input_perturbation, thinking,
  answer, explain, dag, raw_response, question, input_report_text, additional_info;
* report JSON: a list of objects with index, perturbation, report_text, ...;
* CSV with the columns index, question, thinking, answer, explain, dag, raw_response, success, error,
  input_perturbation, input_report_text (``input_perturbation`` may be a Python dict literal);
* JSONL with one such object per line;
* the project's own JSONL export (lines with an ``archive`` section): rebuilt as it was, with its
  verdicts and every curation (see :mod:`vcr_core.files.archive`);
* a plain text file holding one explanation in the text form.

``vcr import-traces`` stores each row as a record plus a trace (rows that do not parse are stored
with their findings, never dropped; a record already stored from another file is reused, see
:func:`import_traces`); ``vcr validate`` only reports.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..formalism import Finding, ParseResult, parse_text, to_text, validate_parsed
from ..formalism.findings import error
from ..curation.reuse import after_save
from ..kernel.textsafe import storable
from ..knowledge.genes import claim_grounder
from ..records.model import Record, parse_record
from ..store import Batch, Run, session_scope, utcnow
from ..store import Record as RecordRow
from ..store.traces import save_trace
from .ingest import record_row

csv.field_size_limit(1 << 30)


@dataclass
class ImportedRow:
    """One explanation read from a file, with the record it explains (when the file says)."""

    position: int
    index: str
    text: str | None
    record_obj: Any = None
    report: str | None = None
    raw_output: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def compose_text(row: dict[str, Any]) -> str | None:
    """The text form of a row: its explain/dag fields when present, else its raw response."""
    explain, dag = row.get("explain"), row.get("dag")
    if not _blank(explain) or not _blank(dag):
        parts = []
        for tag, key in (("think", "thinking"), ("answer", "answer"), ("explain", "explain"), ("dag", "dag")):
            val = row.get(key)
            if not _blank(val):
                val = str(val)
                # Some outputs keep their tags inside the field; do not wrap twice.
                parts.append(val if f"<{tag}" in val.lower() else f"<{tag}>\n{val}\n</{tag}>")
        return "\n".join(parts)
    raw = row.get("raw_response")
    return None if _blank(raw) else str(raw)


def _literal_obj(value: Any) -> tuple[Any, str | None]:
    """Decode a JSON object or a Python dict literal (as the original CSVs hold)."""
    if not isinstance(value, str):
        return value, None
    text = value.strip()
    if not text:
        return None, None
    try:
        return json.loads(text), None
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text), None
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        return None, f"input_perturbation could not be read ({type(exc).__name__})"


def _row_from_obj(obj: dict[str, Any], position: int) -> ImportedRow:
    obj, replaced = storable(obj)  # NUL and lone surrogates -> U+FFFD, alike on every database
    index = str(obj.get("index", position))
    rec_obj, problem = _literal_obj(obj.get("input_perturbation", obj.get("perturbation")))
    report = obj.get("input_report_text") if not _blank(obj.get("input_report_text")) else obj.get("report_text")
    row = ImportedRow(position=position, index=index, text=compose_text(obj), record_obj=rec_obj,
                      report=None if _blank(report) else str(report),
                      raw_output=None if _blank(obj.get("raw_response")) else str(obj.get("raw_response")),
                      extra={k: obj[k] for k in ("question", "additional_info", "success", "error") if k in obj and not _blank(obj[k])})
    if problem:
        row.problems.append(problem)
    if replaced:
        row.problems.append(f"a NUL character or lone surrogate was replaced by U+FFFD in {', '.join(replaced[:5])}")
    return row


def _rows_from_text(text: str, filename: str) -> Iterator[ImportedRow]:
    """Every explanation in one JSON document or text file (read whole: the size limit bounds it)."""
    name = filename.lower()
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            if name.endswith(".json"):
                raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
            obj = None
        if isinstance(obj, dict):
            if "nodes" in obj and "edges" in obj:  # canonical JSON form
                from ..formalism import Explanation
                yield ImportedRow(position=0, index=str(obj.get("index", 0)), text=to_text(Explanation.model_validate(obj)))
                return
            obj = [obj]
        if isinstance(obj, list):
            for i, o in enumerate(obj):
                yield _row_from_obj(o if isinstance(o, dict) else {"raw_response": str(o)}, i)
            return
    yield ImportedRow(position=0, index="0", text=text)


def _jsonl_rows(lines: Iterable[str]) -> Iterator[ImportedRow]:
    for i, line in enumerate(lines):
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield ImportedRow(position=i, index=str(i), text=None, problems=[f"line {i + 1} is not JSON: {exc.msg}"])
                continue
            yield _row_from_obj(obj if isinstance(obj, dict) else {"raw_response": str(obj)}, i)


def read_rows(data: bytes, filename: str = "") -> list[ImportedRow]:
    """Every explanation in a file, whatever its format. Raises ValueError for unreadable files."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{filename or 'the file'} is not UTF-8 text (byte {exc.start})") from exc
    name = filename.lower()
    if name.endswith(".csv"):
        return [_row_from_obj(dict(r), i) for i, r in enumerate(csv.DictReader(io.StringIO(text)))]
    if name.endswith(".jsonl"):
        return list(_jsonl_rows(text.splitlines()))
    return list(_rows_from_text(text, filename))


def iter_rows(path: Path) -> Iterator[ImportedRow]:
    """Every explanation in the file at ``path``, read as it goes: a CSV row by row, JSONL line by line
    (so memory holds one row, not the file); a JSON document or text file whole (the size limit bounds
    it). Raises ValueError for text that is not UTF-8."""
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".jsonl")):
            with open(path, encoding="utf-8-sig", newline="" if name.endswith(".csv") else None) as fh:
                if name.endswith(".csv"):
                    for i, r in enumerate(csv.DictReader(fh)):
                        yield _row_from_obj(dict(r), i)
                else:
                    yield from _jsonl_rows(fh)
            return
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text (byte {exc.start} of a line or field); nothing was imported") from None
    except csv.Error as exc:
        raise ValueError(f"{path.name} is not a readable CSV file ({exc}); nothing was imported") from None
    yield from _rows_from_text(text, path.name)


def check_size(path: Path) -> None:
    """Refuse a file above MAX_UPLOAD_MB (the limit of every way in) before reading it: one line."""
    from ..kernel.settings import get_settings

    max_mb = get_settings().max_upload_mb
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise ValueError(f"the file is {size / 1024 / 1024:.1f} MB, above the {max_mb:g} MB limit (setting "
                         "MAX_UPLOAD_MB); nothing was read")


def _file_hash(path: Path) -> str:
    h = hashlib.sha256(b"import:")
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_row(row: ImportedRow) -> tuple[ParseResult | None, list[Finding]]:
    """Parse and check one row's explanation (report-only rows have none)."""
    if row.text is None:
        findings = [error("missing_explain", "this row has no explanation (no explain/dag fields and no raw response)")]
        return None, findings
    result = parse_text(row.text)
    return result, validate_parsed(result)


def _record_from_row(row: ImportedRow) -> tuple[Record, list[str]]:
    obj = row.record_obj
    problems = list(row.problems)
    if isinstance(obj, dict):
        if "perturbations" in obj and "perturbation" not in obj:
            obj = {"index": row.index, "perturbation": obj}
        obj = {"index": row.index, **obj} if "index" not in obj else obj
        rec, probs = parse_record(obj, row.position)
        problems += [str(p) for p in probs]
        if rec is not None:
            return rec, problems
    elif obj is not None:
        problems.append("input_perturbation is not an object")
    raw = obj if isinstance(obj, dict) else {"input_perturbation": row.record_obj}
    return Record(index=row.index, shape="single", raw=raw if isinstance(raw, dict) else {}), problems


def fill_identity_keys(session: Session) -> int:
    """Give records stored before identity keys existed (schema 0005) their key; returns how many."""
    from ..curation.compare import identity_key

    rows = session.exec(select(RecordRow).where(RecordRow.identity_key.is_(None), RecordRow.perturbation_name.is_not(None))).all()
    for r in rows:
        r.identity_key = identity_key(r.normalized, r.perturbation_name, r.context_label)
        session.add(r)
    session.flush()
    return len(rows)


def _same_record(session: Session, rec_row: RecordRow, batch_id: int) -> RecordRow | None:
    """The first stored record of another batch naming the same perturbation in the same context."""
    if rec_row.identity_key is None:  # no perturbation read: nothing to be the same as
        return None
    return session.exec(select(RecordRow).where(RecordRow.identity_key == rec_row.identity_key, RecordRow.batch_id != batch_id)
                        .order_by(RecordRow.id)).first()


def import_traces(engine: Engine, path: str | Path, *, created_by: str | None = None, name: str | None = None) -> dict[str, Any]:
    """Store every row of an original-pipeline output file as a record plus a trace.

    The file becomes one batch (kind 'import') and one run (mode 'import'); importing the same
    bytes again adds nothing. A row whose record names the same perturbation in the same context as a
    record already stored from another file or upload (``compare.identity_key``) adds no record: its
    trace joins that record, so the two files' traces (Claude's and Gemini's, say) compare side by
    side; the trace's run (and so its batch) still says which file it came from, and its ``meta``
    the row's index there. Returns counts: rows, ok, invalid, report_only, merged, batch_id, run_id,
    duplicate."""
    path = Path(path)
    from .hf import is_hf_export

    if is_hf_export(path):  # the traces config of `vcr export --format hf`: its archive column
        from .archive import import_archive
        from .hf import iter_hf_archives

        return import_archive(engine, iter_hf_archives(path), created_by=created_by)
    check_size(path)
    if path.name.lower().endswith(".jsonl"):
        from .archive import import_archive, is_archive_head, iter_archive

        with open(path, "rb") as fh:
            first = next((ln for ln in fh if ln.strip()), b"")
        if is_archive_head(first.decode("utf-8-sig", errors="replace")):
            with open(path, "rb") as fh:  # the project's own export: rebuilt with verdicts and curations
                return import_archive(engine, iter_archive(fh), created_by=created_by)
    content_hash = _file_hash(path)
    counts = {"rows": 0, "ok": 0, "invalid": 0, "report_only": 0, "merged": 0, "duplicate": False}
    with session_scope(engine) as session:
        existing = session.exec(select(Batch).where(Batch.content_hash == content_hash)).first()
        if existing is not None:
            run = session.exec(select(Run).where(Run.batch_id == existing.id)).first()
            n = session.exec(select(func.count()).select_from(RecordRow).where(RecordRow.batch_id == existing.id)).one()
            return counts | {"rows": n, "duplicate": True, "batch_id": existing.id, "run_id": run.id if run else None}
        batch = Batch(name=name or path.stem, content_hash=content_hash, kind="import", source_filename=path.name,
                      created_by=created_by, n_records=0)
        session.add(batch)
        session.flush()
        run = Run(name=name or path.stem, batch_id=batch.id, mode="import", status="done", n_total=0,
                  created_by=created_by, started_at=utcnow(), finished_at=utcnow(), options={"source": path.name})
        session.add(run)
        session.flush()
        batch_id, run_id = batch.id, run.id
        fill_identity_keys(session)
        seen: set[str] = set()
        grounder = claim_grounder()  # claim hashes follow gene identifiers ("VEGFR2" = "KDR")
        for row in iter_rows(path):
            counts["rows"] += 1
            rec, problems = _record_from_row(row)
            if rec.index in seen:  # an index repeated in the file still becomes its own record
                rec.index = f"{rec.index}#{row.position}"
            seen.add(rec.index)
            rec_row = record_row(batch_id, rec, row.position)
            same = _same_record(session, rec_row, batch_id)
            if same is not None:  # another file's (or an upload's) record: this trace joins it
                rec_row = same
                counts["merged"] += 1
            else:
                session.add(rec_row)
                session.flush()
            result, findings = check_row(row)
            status = None
            if result is None and row.report:
                status = "report_only"
                findings = []
            trace = save_trace(session, run_id=run_id, record=rec_row, grounder=grounder,
                               explanation=result.explanation if result else None, findings=findings,
                               source="imported", report=row.report, raw_output=row.raw_output or row.text,
                               text_form=to_text(result.explanation) if result else None,
                               errors=problems or None, meta={**row.extra, "source_index": row.index},
                               **({"status": status} if status else {}))
            after_save(session, trace)  # core identity of its claims, and what the team already decided about them
            key = {"ok": "ok", "report_only": "report_only"}.get(trace.status, "invalid")
            counts[key] += 1
            session.flush()
            session.expunge_all()  # nothing of the rows already stored stays in memory
        run = session.get(Run, run_id)
        run.n_total = counts["rows"]
        run.n_done = counts["ok"] + counts["report_only"]
        run.n_invalid = counts["invalid"]
        session.add(run)
        batch = session.get(Batch, batch_id)
        batch.n_records = counts["rows"]
        session.add(batch)
        return counts | {"batch_id": batch_id, "run_id": run_id}


def validate_file(path: str | Path) -> list[dict[str, Any]]:
    """One summary per explanation in a file: index, claims (the nodes other than set_context),
    edges (their number) and findings (as dicts)."""
    path = Path(path)
    out = []
    check_size(path)
    for row in iter_rows(path):
        result, findings = check_row(row)
        expl = result.explanation if result else None
        out.append({
            "index": row.index,
            "claims": [n.model_dump(mode="json") | {"line": n.line} for n in expl.claims] if expl else [],
            "edges": len(expl.edges) if expl else 0,
            "findings": [f.model_dump() for f in findings] + [
                {"code": "record_problem", "severity": "warning", "line": None, "message": p} for p in row.problems],
        })
    return out
