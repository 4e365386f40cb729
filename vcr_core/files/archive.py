"""Read the project's own JSONL export back: records, traces, verdicts and every curation.

Each JSONL line of ``vcr export`` carries an ``archive`` section (see
:func:`vcr_core.files.exporters.archive_section`). Importing rebuilds the batch (matched by its
content hash), the record (batch, position, index), the run (batch, name, creation time), the
trace (run, record), and adds each verdict, trace verdict and curation that is not there yet
(matched by what it says and when it was made). So importing the same archive twice, or into the
database it came from, adds nothing; curators, times, judgments, tags and notes are kept as they were.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..formalism import Explanation
from ..formalism.findings import Finding
from ..store import Batch, Claim, Curation, Record, Run, Trace, TraceVerdict, Verdict, session_scope
from ..curation.core import identify_trace
from ..store.traces import save_trace

ARCHIVE_FORMAT = "vcr-archive/1"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def archive_lines(data: bytes) -> list[dict[str, Any]] | None:
    """The parsed lines of a JSONL archive, or None when ``data`` is not one (then the other
    import formats apply). A line that is not JSON raises ValueError naming it."""
    text = data.decode("utf-8-sig")
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        return None
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        return None
    if not (isinstance(head, dict) and isinstance(head.get("archive"), dict)
            and head["archive"].get("format") == ARCHIVE_FORMAT):
        return None
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {n} of the archive is not JSON ({exc.msg}); nothing was imported") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("archive"), dict):
            raise ValueError(f"line {n} of the archive has no archive section; nothing was imported")
        out.append(obj["archive"])
    return out


def _batch(s: Session, a: dict[str, Any], created_by: str | None) -> tuple[Batch, bool]:
    row = s.exec(select(Batch).where(Batch.content_hash == a["content_hash"])).first()
    if row is not None:
        return row, False
    row = Batch(name=a["name"], content_hash=a["content_hash"], kind=a.get("kind") or "upload",
                source_filename=a.get("source_filename"), created_by=a.get("created_by") or created_by,
                created_at=_dt(a.get("created_at")) or datetime.utcnow(), n_records=a.get("n_records") or 0,
                meta=a.get("meta"))
    s.add(row)
    s.flush()
    return row, True


def _record(s: Session, batch_id: int, a: dict[str, Any]) -> tuple[Record, bool]:
    from ..records.model import Record as RecordModel
    from ..records.model import parse_record
    from .ingest import record_row

    row = s.exec(select(Record).where(Record.batch_id == batch_id, Record.position == a["position"],
                                      Record.index == a["index"])).first()
    if row is not None:
        return row, False
    rec, _ = parse_record(a.get("raw") or {}, a["position"])
    if rec is None:  # an imported row without a usable record: keep what there is
        rec = RecordModel(index=a["index"], shape="single", raw=a.get("raw") or {})
    rec.index = a["index"]
    row = record_row(batch_id, rec, a["position"])
    row.preprocessed = a.get("preprocessed")
    row.preprocessed_at = _dt(a.get("preprocessed_at"))
    row.preprocess_error = a.get("preprocess_error")
    s.add(row)
    s.flush()
    return row, True


def _run(s: Session, batch_id: int, a: dict[str, Any]) -> tuple[Run, bool]:
    created = _dt(a.get("created_at"))
    row = s.exec(select(Run).where(Run.batch_id == batch_id, Run.name == a["name"], Run.created_at == created)).first()
    if row is not None:
        return row, False
    row = Run(name=a["name"], batch_id=batch_id, created_at=created, mode=a.get("mode") or "import",
              provider=a.get("provider"), model=a.get("model"), tools=a.get("tools"), options=a.get("options"),
              status=a.get("status") or "done", created_by=a.get("created_by"), started_at=_dt(a.get("started_at")),
              finished_at=_dt(a.get("finished_at")), error=a.get("error"), meta=a.get("meta"))
    s.add(row)
    s.flush()
    return row, True


def _trace(s: Session, run: Run, record: Record, a: dict[str, Any]) -> tuple[Trace, bool]:
    row = s.exec(select(Trace).where(Trace.run_id == run.id, Trace.record_id == record.id)).first()
    if row is not None:
        return row, False
    expl = Explanation.model_validate(a["explanation"]) if a.get("explanation") else None
    findings = [Finding.model_validate(f) for f in a.get("findings") or []]
    fields = {k: a.get(k) for k in ("status", "source", "report", "text_form", "raw_output", "tool_context", "errors",
                                    "prompt_version", "provider", "model", "meta")}
    fields |= {k: a.get(k) or 0 for k in ("prompt_tokens", "completion_tokens", "cost_usd", "latency_s")}
    fields["created_at"] = _dt(a.get("created_at")) or datetime.utcnow()
    trace = save_trace(s, run_id=run.id, record=record, explanation=expl, findings=findings, **fields)
    trace.findings = a.get("findings")  # exactly as archived
    s.add(trace)
    s.flush()
    identify_trace(s, trace)  # core identity of its claims (their reuse is restored after the curations)
    return trace, True


def _add_missing(s, model, trace_id: int, items: list[dict[str, Any]] | None, stored_key, item_key, make) -> int:
    """Add the archived ``items`` of one trace that are not stored yet (compared by ``stored_key`` of a row
    and ``item_key`` of an item); returns how many were added. Importing the same archive twice adds nothing."""
    have = {stored_key(row) for row in s.exec(select(model).where(model.trace_id == trace_id)).all()}
    added = 0
    for item in items or []:
        when = _dt(item.get("created_at"))
        if item_key(item, when) not in have:
            s.add(make(item, when))
            added += 1
    return added


def import_archive(engine: Engine, lines: Iterable[dict[str, Any]], *, created_by: str | None = None) -> dict[str, Any]:
    """Rebuild every archived trace (one transaction); returns what was added, per kind."""
    added = {"batches": 0, "records": 0, "runs": 0, "traces": 0, "verdicts": 0, "trace_verdicts": 0, "curations": 0}
    counts = {"rows": 0, "ok": 0, "invalid": 0, "report_only": 0, "duplicate": False, "archive": True}
    runs: set[int] = set()
    batch_ids: set[int] = set()
    with session_scope(engine) as s:
        for a in lines:
            counts["rows"] += 1
            batch, new = _batch(s, a["batch"], created_by)
            added["batches"] += new
            batch_ids.add(batch.id)
            record, new = _record(s, batch.id, a["record"])
            added["records"] += new
            run, new = _run(s, batch.id, a["run"])
            added["runs"] += new
            runs.add(run.id)
            trace, new = _trace(s, run, record, a["trace"])
            added["traces"] += new
            key = {"ok": "ok", "report_only": "report_only"}.get(trace.status, "invalid")
            counts[key] += 1
            claims = {c.node_id: c for c in s.exec(select(Claim).where(Claim.trace_id == trace.id)).all()}


            def claim_id(item: dict[str, Any], claims=claims) -> int | None:
                return getattr(claims.get(item.get("node_id")), "id", None)

            added["verdicts"] += _add_missing(
                s, Verdict, trace.id, a.get("verdicts"),
                lambda v: (v.verifier, v.version, v.verdict, v.claim_hash, v.created_at),
                lambda v, when: (v["verifier"], v["version"], v["verdict"], v.get("claim_hash"), when),
                lambda v, when: Verdict(trace_id=trace.id, claim_id=claim_id(v), claim_hash=v.get("claim_hash"),
                                        verifier=v["verifier"], version=v["version"], verdict=v["verdict"],
                                        score=v.get("score") or 0.0, evidence=v.get("evidence"),
                                        message=v.get("message"), created_at=when))
            added["trace_verdicts"] += _add_missing(
                s, TraceVerdict, trace.id, a.get("trace_verdicts"),
                lambda v: (v.verdict, v.created_at),
                lambda v, when: (v["verdict"], when),
                lambda v, when: TraceVerdict(trace_id=trace.id, verdict=v["verdict"], policy=v.get("policy"),
                                             summary=v.get("summary"), created_at=when))
            added["curations"] += _add_missing(
                s, Curation, trace.id, a.get("curations"),
                lambda c: (c.target, c.curator, c.judgment, c.claim_hash, c.created_at),
                lambda c, when: (c["target"], c["curator"], c["judgment"], c.get("claim_hash"), when),
                lambda c, when: Curation(target=c["target"], trace_id=trace.id,
                                         claim_id=claim_id(c) if c["target"] == "claim" else None,
                                         claim_hash=c.get("claim_hash"), curator=c["curator"], judgment=c["judgment"],
                                         verdict=c.get("verdict"), tag=c.get("tag"), note=c.get("note"),
                                         claim_snapshot=c.get("claim_snapshot"), app_version=c.get("app_version"),
                                         created_at=when))
            s.flush()
        for run_id in runs:  # counts of a rebuilt run follow its traces
            run = s.get(Run, run_id)
            statuses = [t.status for t in s.exec(select(Trace).where(Trace.run_id == run_id)).all()]
            run.n_total = max(run.n_total, len(statuses))
            run.n_done = sum(st in ("ok", "report_only") for st in statuses)
            run.n_invalid = sum(st == "invalid" for st in statuses)
            run.n_failed = sum(st == "failed" for st in statuses)
            s.add(run)
    if added["curations"]:  # the kept claim and trace curation state follows the imported judgment log
        from ..curation.log import rebuild_state
        from ..curation.reuse import rebuild_reuse
        rebuild_state(engine)
        rebuild_reuse(engine, append_verdicts=False)  # the archive carried the curated verdicts themselves
    counts["duplicate"] = not any(added.values())
    counts["added"] = added
    counts["batch_id"] = min(batch_ids) if batch_ids else None
    counts["run_id"] = min(runs) if runs else None
    return counts
