"""Read the project's own JSONL export back: records, traces, verdicts and every curation.

Each JSONL line of ``vcr export`` carries an ``archive`` section (see
:func:`vcr_core.files.exporters.archive_section`). Importing rebuilds the batch (matched by its
content hash), the record (batch, position, index), the run (batch, name, creation time), the
trace (run, record), and adds each verdict, trace verdict and curation that is not there yet
(matched by what it says and when it was made). So importing the same archive twice, or into the
database it came from, adds nothing; curators, times, judgments, tags and notes are kept as they were.

An archive is checked, not trusted (issue 22): every line must carry its batch, record, run and trace;
each claim is hashed again with the same grounder generation uses, and a verdict or judgment whose
claim hash differs from its claim's is refused with its line; verdicts, trace verdicts and judgments
must use the values of :mod:`vcr_core.kernel.statuses` and name a node of their trace; creation times
(records, runs, traces, verdicts, judgments) are kept. Any problem refuses the whole archive with one
line naming it; nothing is imported. The lines are read one at a time.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..curation.core import identify_trace
from ..curation.grounding import JUDGMENT as REGROUND
from ..curation.grounding import TARGET as GROUNDING
from ..curation.grounding import reapply_groundings
from ..formalism import Explanation
from ..formalism.findings import Finding
from ..kernel.statuses import ClaimJudgment, PolicyOutcome, TraceJudgment, TraceStatus, VerdictValue
from ..kernel.textsafe import storable
from ..store import Batch, Claim, Curation, Record, Run, Trace, TraceVerdict, Verdict, session_scope
from ..store.traces import save_trace

ARCHIVE_FORMAT = "vcr-archive/1"


class ArchiveError(ValueError):
    """An archive line that cannot be imported; the message names the line and the problem."""


def _dt(value: Any, where: str = "") -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ArchiveError(f"{where}: {str(value)[:40]!r} is not a time (ISO 8601)"
                           + ("; nothing was imported" if where.startswith("line ") else "")) from None
    return when


def is_archive_head(first_line: str | bytes) -> bool:
    """True when the first non-empty line of a JSONL file is a line of the project's own archive."""
    try:
        head = json.loads(first_line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return (isinstance(head, dict) and isinstance(head.get("archive"), dict)
            and head["archive"].get("format") == ARCHIVE_FORMAT)


def iter_archive(lines: Iterable[str | bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, archive section) of each non-empty line, read one at a time. A line that is not
    JSON or has no archive section raises ArchiveError naming it."""
    for n, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ArchiveError(f"line {n} of the archive is not UTF-8 text (byte {exc.start}); nothing was imported") from None
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ArchiveError(f"line {n} of the archive is not JSON ({exc.msg}); nothing was imported") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("archive"), dict):
            raise ArchiveError(f"line {n} of the archive has no archive section; nothing was imported")
        yield n, obj["archive"]


def archive_lines(data: bytes) -> list[dict[str, Any]] | None:
    """The parsed lines of a JSONL archive, or None when ``data`` is not one (then the other
    import formats apply). A line that is not JSON raises ValueError naming it."""
    text = data.decode("utf-8-sig")
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None or not is_archive_head(first):
        return None
    return [a for _n, a in iter_archive(text.splitlines())]


_SECTIONS = {"batch": ("name", "content_hash"), "record": ("index", "position"), "run": ("name",), "trace": ()}
_CLAIM_JUDGMENTS = {v.value for v in ClaimJudgment}
_TRACE_JUDGMENTS = {v.value for v in TraceJudgment}
_VERDICTS = {v.value for v in VerdictValue}
_OUTCOMES = {v.value for v in PolicyOutcome}


def check_line(n: int, a: dict[str, Any]) -> None:
    """Refuse (ArchiveError naming line ``n``) a line without its sections, or with values no judgment,
    verdict or trace verdict can have. The node ids are checked against the trace when it is stored."""
    from ..curation import REASON_TAGS

    def bad(what: str) -> ArchiveError:
        return ArchiveError(f"line {n} of the archive: {what}; nothing was imported")

    for section, keys in _SECTIONS.items():
        if not isinstance(a.get(section), dict):
            raise bad(f"the {section} section is missing or empty")
        for key in keys:
            if a[section].get(key) in (None, ""):
                raise bad(f"the {section} has no {key}")
    for key in ("verdicts", "trace_verdicts", "curations"):
        items = a.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            raise bad(f"{key} is not a list of objects")
    for v in a.get("verdicts") or []:
        if v.get("verdict") not in _VERDICTS or not isinstance(v.get("verifier"), str) or v.get("version") is None:
            raise bad(f"a verdict says {str(v.get('verdict'))[:40]!r} (one of {', '.join(sorted(_VERDICTS))}, with its "
                      "verifier and version)")
    for v in a.get("trace_verdicts") or []:
        if v.get("verdict") not in _OUTCOMES:
            raise bad(f"a trace verdict says {str(v.get('verdict'))[:40]!r} (one of {', '.join(sorted(_OUTCOMES))})")
    for c in a.get("curations") or []:
        target, judgment = c.get("target"), c.get("judgment")
        allowed = _CLAIM_JUDGMENTS if target == "claim" else _TRACE_JUDGMENTS if target == "trace" else \
            {REGROUND} if target == GROUNDING else None
        if allowed is None:
            raise bad(f"a judgment has target {str(target)[:40]!r} (claim, trace or grounding)")
        if judgment not in allowed:
            raise bad(f"a {target} judgment says {str(judgment)[:40]!r} (one of {', '.join(sorted(allowed))})")
        if not isinstance(c.get("curator"), str) or not c["curator"].strip():
            raise bad("a judgment has no curator")
        if c.get("verdict") is not None and c["verdict"] not in _VERDICTS:
            raise bad(f"a judgment's verdict is {str(c['verdict'])[:40]!r} (one of {', '.join(sorted(_VERDICTS))})")
        if c.get("tag") is not None and c["tag"] not in REASON_TAGS:
            raise bad(f"a judgment's tag is {str(c['tag'])[:40]!r}, not a reason tag")
        if target in ("claim", GROUNDING) and not c.get("node_id"):
            raise bad("a claim judgment names no node")
        if target == GROUNDING and not isinstance((c.get("claim_snapshot") or {}).get("new"), dict):
            raise bad("a re-grounding carries no new grounding")
        if c.get("created_at") is None:
            raise bad("a judgment has no time")
        _dt(c["created_at"], f"line {n} of the archive: a judgment's time")  # raises naming the line


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
    if a.get("created_at"):
        row.created_at = _dt(a["created_at"], "a record's time")
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


def _trace(s: Session, run: Run, record: Record, a: dict[str, Any], grounder=None) -> tuple[Trace, bool]:
    row = s.exec(select(Trace).where(Trace.run_id == run.id, Trace.record_id == record.id)).first()
    if row is not None:
        return row, False
    expl = Explanation.model_validate(a["explanation"]) if a.get("explanation") else None
    findings = [Finding.model_validate(f) for f in a.get("findings") or []]
    fields = {k: a.get(k) for k in ("status", "source", "report", "text_form", "raw_output", "tool_context", "errors",
                                    "prompt_version", "provider", "model", "meta")}
    fields |= {k: a.get(k) or 0 for k in ("prompt_tokens", "completion_tokens", "cost_usd", "latency_s")}
    fields["created_at"] = _dt(a.get("created_at")) or datetime.utcnow()
    # the same grounder as generation and the other imports: claim hashes follow gene identifiers
    trace = save_trace(s, run_id=run.id, record=record, explanation=expl, findings=findings, grounder=grounder, **fields)
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


def _check_claims(n: int, a: dict[str, Any], claims: dict[str, Claim], record: Record, new: bool) -> None:
    """Every verdict and judgment on a claim names a node of the trace and carries that claim's hash as
    this database computes it (with the claim grounder, as generation does): a mismatch means the archive
    was changed, and is refused with the line. A trace stored by an older version without the grounder
    archived the ungrounded hash of the same claim: that one is accepted too and kept on the new trace, so a
    round trip changes no hash."""
    def bad(what: str) -> ArchiveError:
        return ArchiveError(f"line {n} of the archive: {what}; nothing was imported")

    archived: dict[str, str | None] = {}
    given = a.get("claim_hashes")
    if given is not None and not (isinstance(given, dict) and all(isinstance(h, str) for h in given.values())):
        raise bad("claim_hashes is not an object of node ids and hashes")
    for node, h in (given or {}).items():
        if node not in claims:
            raise bad(f"a claim hash names node {str(node)[:40]!r}, which the trace does not have")
        archived[node] = h
    for kind, items in (("verdict", a.get("verdicts") or []), ("judgment", a.get("curations") or [])):
        for item in items:
            node = item.get("node_id")
            if node is None and (kind == "verdict" or item.get("target") == "trace"):
                continue  # a verdict on the whole trace (structural checks), a trace judgment
            if node not in claims:
                raise bad(f"a {kind} names node {str(node)[:40]!r}, which the trace does not have")
            if archived.setdefault(node, item.get("claim_hash")) != item.get("claim_hash"):
                raise bad(f"the claim hash of a {kind} on node {str(node)[:40]!r} does not match its claim (two "
                          "different hashes are given for it)")
    ungrounded: dict[str, str] = {}
    if new and any(h != claims[node].hash for node, h in archived.items()):
        from ..formalism import claim_hash
        from ..store.traces import record_model

        expl = Explanation.model_validate(a["trace"]["explanation"])
        context = record_model(record).context_key()
        ungrounded = {node.id: claim_hash(node, context, None) for node in expl.claims}
    for node, h in archived.items():
        claim = claims[node]
        if h == claim.hash:
            continue
        if h is not None and h == ungrounded.get(node):
            claim.hash = h  # the same claim, hashed as the database it came from hashed it
            continue
        raise bad(f"the claim hash given for node {str(node)[:40]!r} does not match its claim (recomputed from "
                  "the explanation)")


def import_archive(engine: Engine, lines: Iterable[dict[str, Any] | tuple[int, dict[str, Any]]], *,
                   created_by: str | None = None) -> dict[str, Any]:
    """Rebuild every archived trace (one transaction; any problem refuses it all with ArchiveError);
    returns what was added, per kind. ``lines``: archive sections, or (line number, section) pairs as
    :func:`iter_archive` reads them."""
    from ..knowledge.genes import claim_grounder

    added = {"batches": 0, "records": 0, "runs": 0, "traces": 0, "verdicts": 0, "trace_verdicts": 0, "curations": 0}
    counts = {"rows": 0, "ok": 0, "invalid": 0, "report_only": 0, "duplicate": False, "archive": True}
    runs: set[int] = set()
    batch_ids: set[int] = set()
    grounder = claim_grounder()
    with session_scope(engine) as s:
        for item in lines:
            n, a = item if isinstance(item, tuple) else (counts["rows"] + 1, item)
            if not isinstance(a, dict):
                raise ArchiveError(f"line {n} of the archive has no archive section; nothing was imported")
            a, replaced = storable(a)  # NUL and lone surrogates -> U+FFFD, alike on every database
            check_line(n, a)
            counts["rows"] += 1
            counts["replaced"] = counts.get("replaced", 0) + len(replaced)
            try:
                batch, new = _batch(s, a["batch"], created_by)
                added["batches"] += new
                batch_ids.add(batch.id)
                record, new = _record(s, batch.id, a["record"])
                added["records"] += new
                run, new = _run(s, batch.id, a["run"])
                added["runs"] += new
                runs.add(run.id)
                trace, new = _trace(s, run, record, a["trace"], grounder)
            except ArchiveError as exc:
                raise ArchiveError(f"line {n} of the archive: {exc}; nothing was imported") from None
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise ArchiveError(f"line {n} of the archive cannot be read ({type(exc).__name__} in its "
                                   f"{'record' if 'record' in str(exc) else 'sections'}); nothing was imported") from None
            added["traces"] += new
            key = {"ok": "ok", "report_only": "report_only"}.get(trace.status, "invalid")
            counts[key] += 1
            claims = {c.node_id: c for c in s.exec(select(Claim).where(Claim.trace_id == trace.id)).all()}
            _check_claims(n, a, claims, record, new)
            s.flush()

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
                lambda c, when: (c["target"], _curator(c["curator"]), c["judgment"], c.get("claim_hash"), when),
                lambda c, when: Curation(target=c["target"], trace_id=trace.id,
                                         claim_id=claim_id(c) if c["target"] in ("claim", GROUNDING) else None,
                                         claim_hash=c.get("claim_hash"), curator=_curator(c["curator"]),
                                         curator_display=c.get("curator_display") or c["curator"], judgment=c["judgment"],
                                         verdict=c.get("verdict"), tag=c.get("tag"), note=c.get("note"),
                                         claim_snapshot=c.get("claim_snapshot"), app_version=c.get("app_version"),
                                         created_at=when))
            s.flush()
            if any(c.get("target") == GROUNDING for c in a.get("curations") or []):
                reapply_groundings(s, trace.id)  # the curators' re-groundings, as the log says
            s.expunge_all()  # the session keeps nothing of the lines already stored: memory stays bounded
        for run_id in runs:  # counts of a rebuilt run follow its traces
            run = s.get(Run, run_id)
            statuses = [t.status for t in s.exec(select(Trace).where(Trace.run_id == run_id)).all()]
            run.n_total = max(run.n_total, len(statuses))
            run.n_done = sum(st in (TraceStatus.OK, TraceStatus.REPORT_ONLY) for st in statuses)
            run.n_invalid = sum(st == TraceStatus.INVALID for st in statuses)
            run.n_failed = sum(st == TraceStatus.FAILED for st in statuses)
            s.add(run)
    if added["curations"]:  # the kept claim and trace curation state follows the imported judgment log
        from ..curation import rebuild_state
        from ..curation.reuse import rebuild_reuse
        rebuild_state(engine)
        rebuild_reuse(engine, append_verdicts=False)  # the archive carried the curated verdicts themselves
    counts["duplicate"] = not any(added.values())
    counts["added"] = added
    counts["batch_id"] = min(batch_ids) if batch_ids else None
    counts["run_id"] = min(runs) if runs else None
    return counts


def _curator(name):
    """The archived curator's key (archives written before names were normalised hold the name as typed)."""
    from ..kernel.identity import key_or_none

    return key_or_none(name) or name
