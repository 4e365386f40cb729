"""Exporters. Selection first (curation status, filter policy, batch, run), then one writer per format:

* ``jsonl`` — one object per trace: record, explanation JSON, text form, report, claims with their
  verdicts (each evidence item in its model's export form: the stored fields, a plain ``summary`` and
  any ``links``; ``verify/evidence.py``) and curations, the trace verdict and the curation history, and an ``archive`` section
  (batch, record, run, trace columns, every verdict and curation) that ``vcr import-traces`` reads
  back into another database;
* ``original`` — the original pipeline's structured-explanation output JSON (index, input_perturbation,
  thinking, answer, explain, dag, raw_response, question, input_report_text, additional_info);
* ``graphml`` — every selected action graph in one GraphML file (for Cytoscape), node ids prefixed
  by ``t<trace id>:``; nodes carry machine and effective verdict, each curator's judgment, tags and the
  trace's curation status; the graph carries the status counts and the curators.

Traces are read in batches (``iter_trace_rows``: a constant number of queries per batch) and the
per-trace document is built by ``trace_doc``, apart from the streaming loop (``write_export``).
Text stored before ingest rejected lone surrogates is replaced by U+FFFD and reported, never failing
the selection.
"""
from __future__ import annotations

import io
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterable, Iterator

import networkx as nx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..curation import TRACE_STATUSES, consensus_rule, disagreement
from ..formalism import Explanation, node_to_text
from ..kernel.statuses import LEGACY_JUDGMENTS, ClaimJudgment, CurationState, PolicyOutcome, TraceJudgment
from ..kernel.textsafe import scrub
from ..store import (
    Batch,
    Claim,
    ClaimStateRow,
    Curation,
    Record,
    Run,
    Trace,
    TraceStateRow,
    TraceVerdict,
    Verdict,
)
from ..store.traces import trace_in_batch
from ..verify.evidence import export_evidence
from ..verify.policy import aggregate_claim_verdict, latest_verdict_ids
from ..viz import action_graph_svg, to_networkx

FORMATS = ("jsonl", "original", "graphml", "svg")


CURATION_STATES = (TraceJudgment.APPROVE.value, "any") + tuple(s for s in TRACE_STATUSES if s != TraceJudgment.APPROVE)
"""What ``status`` may ask for: one trace curation state ('approve', the default, as the judgment that decided
it), or 'any'. The older spelling 'approved' is read as 'approve' (``statuses.LEGACY_JUDGMENTS``)."""


def select_traces(engine: Engine, *, status: str = TraceJudgment.APPROVE, verified_only: bool = False, batch_id: int | None = None,
                  run_id: int | None = None, model: str | None = None, verdict: str | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> list[int]:
    """Trace ids to export: ``status`` 'approve' (default; 'approved' reads the same), 'any' or one curation state ('reject',
    'uncurated', ...); ``verified_only`` keeps traces whose latest filter-policy verdict is 'pass'
    (``verdict`` asks for another outcome: 'fail', 'insufficient'); ``model`` the trace's model;
    ``since``/``until`` its creation time (inclusive, exclusive)."""
    status = LEGACY_JUDGMENTS.get(status, status)  # 'approved' -> 'approve'
    if status not in CURATION_STATES:
        raise ValueError(f"unknown curation status {status!r}; use one of {', '.join(CURATION_STATES)}")
    q = select(Trace.id).join(Record, Record.id == Trace.record_id)
    if batch_id is not None:
        q = q.where(trace_in_batch(batch_id))
    if run_id is not None:
        q = q.where(Trace.run_id == run_id)
    if model is not None:
        q = q.where(Trace.model == model)
    if since is not None:  # a date without a time zone is UTC, as stored
        q = q.where(Trace.created_at >= (since if since.tzinfo else since.replace(tzinfo=timezone.utc)))
    if until is not None:
        q = q.where(Trace.created_at < (until if until.tzinfo else until.replace(tzinfo=timezone.utc)))
    if verified_only or verdict:
        latest = latest_verdict_ids()
        q = q.where(Trace.id.in_(select(TraceVerdict.trace_id).join(latest, latest.c.vid == TraceVerdict.id)
                                 .where(TraceVerdict.verdict == (verdict or PolicyOutcome.PASS))))
    if status == CurationState.UNCURATED:  # no state row yet counts as uncurated
        q = q.where(Trace.id.not_in(select(TraceStateRow.trace_id).where(TraceStateRow.status != CurationState.UNCURATED)))
    elif status != "any":
        q = q.where(Trace.id.in_(select(TraceStateRow.trace_id).where(TraceStateRow.status == status)))
    with Session(engine) as s:
        return list(s.exec(q.order_by(Trace.id)).all())


def trace_models(engine: Engine) -> list[str]:
    """The models that made the stored traces (the model filter's choices)."""
    with Session(engine) as s:
        return sorted(m for m in s.exec(select(Trace.model).distinct()).all() if m)




BATCH = 200
"""Traces loaded per batch: every batch costs the same ten queries, whatever its traces hold."""
ARCHIVE_FORMAT = "vcr-archive/1"


@dataclass
class TraceRows:
    """Everything the database holds about one trace, loaded in batches (see ``iter_trace_rows``)."""

    trace: Trace
    record: Record
    trace_verdict: TraceVerdict | None
    claims: list[Claim]
    verdicts: dict[int, list[Verdict]]
    curations: list[Curation]
    state: TraceStateRow | None
    claim_states: dict[int, ClaimStateRow]
    batch: Batch | None = None
    run: Run | None = None
    trace_verdicts: list[TraceVerdict] | None = None  # every policy verdict, oldest first (the archive)
    trace_level_verdicts: list[Verdict] | None = None  # verdicts on the whole trace (structural, falsification)


def iter_trace_rows(engine: Engine, trace_ids: Iterable[int], batch_size: int = BATCH) -> Iterator[TraceRows]:
    """The traces' rows, ``batch_size`` traces at a time with a constant number of queries per batch
    (traces, records, trace verdicts, claims, verdicts, curations, trace and claim states); memory is
    bounded by one batch."""
    ids = list(trace_ids)
    for i in range(0, len(ids), batch_size):
        chunk = ids[i:i + batch_size]
        with Session(engine) as s:
            traces = {t.id: t for t in s.exec(select(Trace).where(Trace.id.in_(chunk))).all()}
            records = {r.id: r for r in s.exec(select(Record).where(Record.id.in_({t.record_id for t in traces.values()}))).all()}
            claims: dict[int, list[Claim]] = {}
            for c in s.exec(select(Claim).where(Claim.trace_id.in_(chunk)).order_by(Claim.trace_id, Claim.position)).all():
                claims.setdefault(c.trace_id, []).append(c)
            verdicts: dict[int, list[Verdict]] = {}
            trace_level: dict[int, list[Verdict]] = {}  # verdicts on a whole trace (structural, falsification)
            for v in s.exec(select(Verdict).where(Verdict.trace_id.in_(chunk)).order_by(Verdict.id)).all():
                if v.claim_id is None:
                    trace_level.setdefault(v.trace_id, []).append(v)
                else:
                    verdicts.setdefault(v.claim_id, []).append(v)
            curations: dict[int, list[Curation]] = {}
            for c in s.exec(select(Curation).where(Curation.trace_id.in_(chunk)).order_by(Curation.id)).all():
                curations.setdefault(c.trace_id, []).append(c)
            states = {r.trace_id: r for r in s.exec(select(TraceStateRow).where(TraceStateRow.trace_id.in_(chunk))).all()}
            cstates = {r.claim_id: r for r in s.exec(select(ClaimStateRow).where(ClaimStateRow.trace_id.in_(chunk))).all()}
            batches = {b.id: b for b in s.exec(select(Batch).where(Batch.id.in_({r.batch_id for r in records.values()}))).all()}
            runs = {r.id: r for r in s.exec(select(Run).where(Run.id.in_({t.run_id for t in traces.values()}))).all()}
            all_tvs: dict[int, list[TraceVerdict]] = {}  # every policy verdict, oldest first; the newest is the current one
            for v in s.exec(select(TraceVerdict).where(TraceVerdict.trace_id.in_(chunk)).order_by(TraceVerdict.id)).all():
                all_tvs.setdefault(v.trace_id, []).append(v)
            tvs = {tid: vs[-1] for tid, vs in all_tvs.items()}
        for tid in chunk:
            t = traces.get(tid)
            if t is None:
                continue
            rec = records[t.record_id]
            yield TraceRows(t, rec, tvs.get(tid), claims.get(tid, []), verdicts, curations.get(tid, []),
                            states.get(tid), cstates, batches.get(rec.batch_id), runs.get(t.run_id),
                            all_tvs.get(tid, []), trace_level.get(tid, []))


def trace_doc(rows: TraceRows) -> dict[str, Any]:
    """One trace as a JSON-ready dict: record, explanation, report, claims with machine verdicts, each
    curator's judgment and the effective verdict, the trace verdict, curation status and history."""
    t, rec, tv = rows.trace, rows.record, rows.trace_verdict
    rule = consensus_rule()
    claims = []
    for c in rows.claims:
        vs = rows.verdicts.get(c.id, [])
        machine, score = aggregate_claim_verdict(vs)
        cs = rows.claim_states.get(c.id)
        claims.append({"node_id": c.node_id, "hash": c.hash, "text": c.text, "action": c.action,
                       "machine_verdict": machine, "machine_score": score,
                       "effective_verdict": (cs.verdict if cs is not None and cs.verdict else None) or machine,
                       "curation_state": cs.status if cs is not None else "uncurated",
                       "judgments": {k: {kk: vv for kk, vv in o.items() if kk != "id"} for k, o in ((cs.opinions or {}) if cs else {}).items()},
                       "disagreement": disagreement((cs.opinions or {}) if cs else {}, "verdict", rule),
                       "verdicts": [{"verifier": v.verifier, "version": v.version, "verdict": v.verdict, "score": v.score,
                                     "evidence": export_evidence(v.evidence), "message": v.message} for v in vs],
                       "curations": [_cur(k) for k in rows.curations if k.claim_id == c.id]})
    return {"trace_id": t.id, "run_id": t.run_id, "record_index": rec.index, "record": rec.raw,
            "preprocessed": rec.preprocessed, "status": t.status, "model": t.model, "prompt_version": t.prompt_version,
            "report": t.report, "explanation": t.explanation, "text": t.text_form, "findings": t.findings,
            "trace_verdict": {"verdict": tv.verdict, "policy": tv.policy, "summary": tv.summary} if tv else None,
            "curation_status": rows.state.status if rows.state else "uncurated",
            "trace_judgments": {k: o.get("judgment") for k, o in ((rows.state.opinions or {}) if rows.state else {}).items()},
            # every curator's disagreement, under every rule ("decided by the latest (ben: reject); ana disagreed ...")
            "disagreement": disagreement((rows.state.opinions or {}) if rows.state else {}, "judgment", rule),
            "claims": claims, "curations": [_cur(c) for c in rows.curations], "archive": archive_section(rows)}


def _iso(dt) -> str | None:
    return dt.isoformat() if dt else None


def archive_section(rows: TraceRows) -> dict[str, Any]:
    """Everything needed to rebuild this trace in another database (``vcr import-traces`` reads it):
    its batch, record, run, trace columns, every verdict and trace verdict, every curation."""
    t, rec, batch, run = rows.trace, rows.record, rows.batch, rows.run
    node = {c.id: c.node_id for c in rows.claims}.get
    verdicts = sorted([v for c in rows.claims for v in rows.verdicts.get(c.id, [])] + list(rows.trace_level_verdicts or []),
                      key=lambda v: v.id)
    return {
        "format": ARCHIVE_FORMAT,
        "batch": {"name": batch.name, "content_hash": batch.content_hash, "kind": batch.kind,
                  "source_filename": batch.source_filename, "created_by": batch.created_by,
                  "created_at": _iso(batch.created_at), "n_records": batch.n_records, "meta": batch.meta} if batch else None,
        "record": {"index": rec.index, "position": rec.position, "raw": rec.raw, "created_at": _iso(rec.created_at),
                   "preprocessed": rec.preprocessed,
                   "preprocessed_at": _iso(rec.preprocessed_at), "preprocess_error": rec.preprocess_error},
        "run": {"name": run.name, "created_at": _iso(run.created_at), "mode": run.mode, "provider": run.provider,
                "model": run.model, "tools": run.tools, "options": run.options, "status": run.status,
                "created_by": run.created_by, "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
                "error": run.error, "meta": run.meta} if run else None,
        "trace": {k: getattr(t, k) for k in ("status", "source", "report", "explanation", "text_form", "raw_output",
                                             "tool_context", "findings", "errors", "prompt_version", "provider",
                                             "model", "prompt_tokens", "completion_tokens", "cost_usd", "latency_s",
                                             "meta")} | {"created_at": _iso(t.created_at)},
        # each claim's hash, checked and kept by the import (a round trip changes no claim's identity)
        "claim_hashes": {c.node_id: c.hash for c in rows.claims},
        # Evidence exactly as stored (the import writes it back unchanged), not its export form.
        "verdicts": [{"node_id": node(v.claim_id), "claim_hash": v.claim_hash, "verifier": v.verifier,
                      "version": v.version, "verdict": v.verdict, "score": v.score, "evidence": v.evidence,
                      "message": v.message, "created_at": _iso(v.created_at)} for v in verdicts],
        "trace_verdicts": [{"verdict": v.verdict, "policy": v.policy, "summary": v.summary,
                            "created_at": _iso(v.created_at)} for v in rows.trace_verdicts or []],
        "curations": [{"target": c.target, "node_id": node(c.claim_id), "claim_hash": c.claim_hash,
                       "curator": c.curator, "curator_display": c.curator_display, "judgment": c.judgment,
                       "verdict": c.verdict, "tag": c.tag,
                       "note": c.note, "claim_snapshot": c.claim_snapshot, "app_version": c.app_version,
                       "created_at": _iso(c.created_at)} for c in rows.curations],
    }


def iter_docs(engine: Engine, trace_ids: Iterable[int], batch_size: int = BATCH,
              problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """``trace_doc`` of every trace, streamed batch by batch. Text that cannot be encoded (lone surrogates
    stored before ingest rejected them) is replaced by U+FFFD; each replacement is reported in ``problems``."""
    for _rows, doc in iter_rows_docs(engine, trace_ids, batch_size, problems):
        yield doc


def iter_rows_docs(engine: Engine, trace_ids: Iterable[int], batch_size: int = BATCH,
                   problems: list[str] | None = None) -> Iterator[tuple[TraceRows, dict[str, Any]]]:
    """Each trace's rows with its ``trace_doc`` (scrubbed as in ``iter_docs``), for writers that need both."""
    for rows in iter_trace_rows(engine, trace_ids, batch_size):
        doc, changed = scrub(trace_doc(rows))
        if changed and problems is not None:
            shown = ", ".join(dict.fromkeys(p for p in changed if not p.startswith("archive.")))[:300]
            problems.append(f"trace {rows.trace.id}: text that cannot be encoded (lone surrogates) was replaced by "
                            f"U+FFFD in {shown}")
        yield rows, doc


def _cur(c) -> dict[str, Any]:
    return {"curator": c.curator, "curator_display": c.curator_display or c.curator, "target": c.target, "claim_hash": c.claim_hash, "judgment": c.judgment,
            "verdict": c.verdict, "tag": c.tag, "note": c.note, "at": c.created_at.isoformat() if c.created_at else None}


def original_row(*, index: Any, record: Any, explanation: dict[str, Any] | None, raw_output: str | None,
                 report: str | None, question: str | None = None, additional_info: Any = None,
                 **extra: Any) -> dict[str, Any]:
    """One row of the original pipeline's structured-explanation JSON, the one writer of that shape (run
    output files and ``vcr export --format original`` alike): the sections come from the parsed explanation,
    or, for a trace without one (a failed parse), from the sections of the raw answer."""
    expl = Explanation.model_validate(explanation) if explanation else None
    if expl is not None:
        from ..formalism.parser import format_call, format_value
        lines = [format_call("set_context", ({"id": expl.context_id} if expl.context_id else {}) | dict(expl.context))] if expl.has_context else []
        think, answer = expl.think, expl.answer
        explain = "\n".join(lines + [node_to_text(n) for n in expl.nodes])
        dag = "\n".join(f"edge({format_value(e.source)}, {format_value(e.target)}, relation={format_value(e.relation)})" for e in expl.edges)
    else:
        from ..formalism.parser import find_sections
        sec = {k: v.content.strip() for k, v in find_sections(raw_output or "").items()}
        think, answer, explain, dag = (sec.get(k, "") for k in ("think", "answer", "explain", "dag"))
    return {"index": index, "input_perturbation": record, "thinking": think, "answer": answer, "explain": explain,
            "dag": dag, "raw_response": raw_output or "", "question": question, "input_report_text": report or "",
            "additional_info": additional_info, **extra}


def _original_row(doc: dict[str, Any]) -> dict[str, Any]:
    return original_row(index=doc["record_index"], record=doc["record"], explanation=doc["explanation"],
                        raw_output=doc["text"], report=doc["report"],
                        additional_info={"trace_id": doc["trace_id"], "model": doc["model"],
                                         "curation_status": doc["curation_status"],
                                         "trace_verdict": (doc["trace_verdict"] or {}).get("verdict")})


def write_export(engine: Engine, trace_ids: list[int], fmt: str, out: BinaryIO, batch_size: int = BATCH,
                 problems: list[str] | None = None) -> int:
    """Write the selected traces in ``fmt`` to the binary stream ``out``, batch by batch (JSONL and the
    original JSON stream in bounded memory; GraphML builds one graph). Returns the traces written.
    ``problems`` (when given) receives one line per trace whose unencodable text was replaced."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "jsonl":
        for d in iter_docs(engine, trace_ids, batch_size, problems):
            out.write((json.dumps(d, ensure_ascii=False, default=str) + "\n").encode("utf-8"))
            n += 1
        return n
    if fmt == "original":
        out.write(b"[")
        for d in iter_docs(engine, trace_ids, batch_size, problems):
            out.write((",\n" if n else "\n").encode() + json.dumps(_original_row(d), ensure_ascii=False, indent=1, default=str).encode("utf-8"))
            n += 1
        out.write(b"\n]")
        return n
    if fmt == "svg":
        return _write_svg(iter_docs(engine, trace_ids, batch_size, problems), out)
    graph = nx.DiGraph()
    statuses: dict[str, int] = {}
    curators: set[str] = set()
    for d in iter_docs(engine, trace_ids, batch_size, problems):
        n += 1
        statuses[d["curation_status"]] = statuses.get(d["curation_status"], 0) + 1
        if not d["explanation"]:
            continue
        by_node = {c["node_id"]: c for c in d["claims"]}
        sub = to_networkx(Explanation.model_validate(d["explanation"]), {k: c["effective_verdict"] for k, c in by_node.items()},
                          prefix=f"t{d['trace_id']}:")
        trace_judgments = "; ".join(f"{k}: {v}" for k, v in sorted(d["trace_judgments"].items()))
        for node, attrs in sub.nodes(data=True):
            c = by_node.get(node.split(":", 1)[1], {})
            judgments = c.get("judgments") or {}
            curators.update(judgments)
            attrs.update(trace_id=d["trace_id"], trace_status=d["curation_status"], trace_judgments=trace_judgments,
                         trace_verdict=(d["trace_verdict"] or {}).get("verdict") or "", model=d["model"] or "",
                         machine_verdict=c.get("machine_verdict") or "", effective_verdict=c.get("effective_verdict") or "",
                         curation_state=c.get("curation_state") or "",
                         curator_judgments="; ".join(f"{k}: {o.get('judgment')}" + (f" {o['verdict']}" if o.get("judgment") == ClaimJudgment.OVERRIDE else "")
                                                     for k, o in sorted(judgments.items())),
                         tags="; ".join(sorted({o["tag"] for o in judgments.values() if o.get("tag")})))
        graph.update(sub)
    graph.graph.update(traces=n, curation_status="; ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
                       curators="; ".join(sorted(curators)))
    _plain_attributes(graph)
    nx.write_graphml(graph, out)
    return n


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(s: str) -> str:
    """``s`` with every character XML 1.0 cannot hold (NUL, other controls, lone surrogates, U+FFFE/FFFF)
    replaced by U+FFFD: a name or note holding one must not stop a GraphML export."""
    return _NOT_XML.sub("\ufffd", s)


_SVG_SIZE = re.compile(r'^<svg [^>]*?width="(\d+)" height="(\d+)"')


def _write_svg(docs: Iterable[dict[str, Any]], out: BinaryIO) -> int:
    """One SVG picture of every selected trace's action graph, one below the other, each titled with its
    trace, record and verdict and drawn as the app draws it (fill: effective verdict; border: kind of
    step). The pictures are kept until the end (the page's size is written first): a few KB a trace."""
    parts: list[str] = []
    width = height = n = 0
    for d in docs:
        n += 1
        if not d["explanation"]:
            continue
        verdicts = {c["node_id"]: c["effective_verdict"] for c in d["claims"]}
        tv = (d["trace_verdict"] or {}).get("verdict") or "not verified"
        svg = action_graph_svg(Explanation.model_validate(d["explanation"]), verdicts,
                               title=f"trace #{d['trace_id']} · record {d['record_index']} · filter: {tv} · "
                                     f"curation: {d['curation_status']}")
        m = _SVG_SIZE.match(svg)
        w, h = int(m.group(1)), int(m.group(2))
        parts.append(svg.replace("<svg ", f'<svg x="0" y="{height}" ', 1))
        width, height = max(width, w), height + h
    out.write((f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">\n'
               + "\n".join(parts) + "\n</svg>\n").encode("utf-8"))
    return n


def _plain_attributes(graph: nx.DiGraph) -> None:
    """GraphML takes str, int, float and bool only, in XML-safe text: status and verdict enums become their
    plain values, characters XML cannot hold become U+FFFD (in node ids too)."""
    def plain(v):
        return xml_text(str(v)) if isinstance(v, str) else v
    graph.graph.update({k: plain(v) for k, v in graph.graph.items()})
    for _, attrs in graph.nodes(data=True):
        attrs.update({k: plain(v) for k, v in attrs.items()})
    for _, _, attrs in graph.edges(data=True):
        attrs.update({k: plain(v) for k, v in attrs.items()})
    bad = {n: xml_text(n) for n in graph.nodes if isinstance(n, str) and _NOT_XML.search(n)}
    if bad:
        nx.relabel_nodes(graph, bad, copy=False)


def export_file(engine: Engine, trace_ids: list[int], fmt: str = "jsonl", problems: list[str] | None = None) -> io.RawIOBase:
    """The selected traces in ``fmt`` streamed to an anonymous temporary file (gone once closed),
    rewound for reading: what the Export page hands to its download button, so building a large
    export holds one batch of traces in memory rather than the whole file. Unbuffered (a raw file, which
    is what Streamlit's download button reads; each write is a line or more)."""
    fh = tempfile.TemporaryFile(prefix="vcr-export-", buffering=0)
    try:
        write_export(engine, trace_ids, fmt, fh, problems=problems)
    except BaseException:
        fh.close()
        raise
    fh.seek(0)
    return fh


def export_traces(engine: Engine, trace_ids: list[int], fmt: str = "jsonl", problems: list[str] | None = None) -> bytes:
    """The selected traces in ``fmt`` (jsonl, original, graphml), as bytes ready to write or download."""
    buf = io.BytesIO()
    write_export(engine, trace_ids, fmt, buf, problems=problems)
    return buf.getvalue()
