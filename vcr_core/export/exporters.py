"""Exporters. Selection first (curation status, filter policy, batch, run), then one writer per format:

* ``jsonl`` — one object per trace: record, explanation JSON, text form, report, claims with their
  verdicts and curations, the trace verdict and the curation history, and an ``archive`` section
  (batch, record, run, trace columns, every verdict and curation) that ``vcr import-traces`` reads
  back into another database;
* ``original`` — the original pipeline's structured-explanation output JSON (index, input_perturbation,
  thinking, answer, explain, dag, raw_response, question, input_report_text, additional_info);
* ``graphml`` — every selected action graph in one GraphML file (for Cytoscape), node ids prefixed
  by ``t<trace id>:``.
"""
from __future__ import annotations

import io
import json
from typing import Any

import networkx as nx
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from ..curation import claim_states, history, trace_status
from ..formalism import Explanation, node_to_text
from ..store import Claim, Curation, Record, Trace, TraceVerdict
from ..textsafe import scrub
from ..viz import to_networkx

FORMATS = ("jsonl", "original", "graphml")


def select_traces(engine: Engine, *, status: str = "approved", verified_only: bool = False, batch_id: int | None = None,
                  run_id: int | None = None) -> list[int]:
    """Trace ids to export: ``status`` 'approved' (default) or 'any'; ``verified_only`` keeps traces
    whose latest filter-policy verdict is 'pass'."""
    q = select(Trace.id).join(Record, Record.id == Trace.record_id)
    if batch_id is not None:
        q = q.where(Record.batch_id == batch_id)
    if run_id is not None:
        q = q.where(Trace.run_id == run_id)
    if verified_only:
        q = q.where(Trace.id.in_(_latest(TraceVerdict, TraceVerdict.verdict == "pass")))
    if status == "approved":
        q = q.where(Trace.id.in_(_latest(Curation, Curation.judgment == "approve", Curation.target == "trace")))
    with Session(engine) as s:
        return list(s.exec(q.order_by(Trace.id)).all())


def _latest(table, condition, *scope):
    """Trace ids whose newest row of ``table`` (within ``scope``) meets ``condition``: one query, not one per trace."""
    newest = select(func.max(table.id)).where(*scope).group_by(table.trace_id)
    return select(table.trace_id).where(table.id.in_(newest), condition)


def _trace_doc(engine: Engine, trace_id: int) -> dict[str, Any]:
    with Session(engine) as s:
        t = s.get(Trace, trace_id)
        rec = s.get(Record, t.record_id)
        tv = s.exec(select(TraceVerdict).where(TraceVerdict.trace_id == trace_id).order_by(TraceVerdict.id.desc())).first()
    claims = []
    for st in claim_states(engine, trace_id):
        claims.append({"node_id": st.claim.node_id, "hash": st.claim.hash, "text": st.claim.text, "action": st.claim.action,
                       "machine_verdict": st.machine, "machine_score": st.machine_score, "effective_verdict": st.effective,
                       "verdicts": [{"verifier": v.verifier, "version": v.version, "verdict": v.verdict, "score": v.score,
                                     "evidence": v.evidence, "message": v.message} for v in st.verdicts],
                       "curations": [_cur(c) for c in st.curations]})
    return {"trace_id": t.id, "run_id": t.run_id, "record_index": rec.index, "record": rec.raw,
            "preprocessed": rec.preprocessed, "status": t.status, "model": t.model, "prompt_version": t.prompt_version,
            "report": t.report, "explanation": t.explanation, "text": t.text_form, "findings": t.findings,
            "trace_verdict": {"verdict": tv.verdict, "policy": tv.policy, "summary": tv.summary} if tv else None,
            "curation_status": trace_status(engine, trace_id), "claims": claims,
            "curations": [_cur(c) for c in history(engine, trace_id)],
            "archive": archive_section(engine, trace_id)}


ARCHIVE_FORMAT = "vcr-archive/1"


def _iso(dt) -> str | None:
    return dt.isoformat() if dt else None


def archive_section(engine: Engine, trace_id: int) -> dict[str, Any]:
    """Everything needed to rebuild this trace in another database (``vcr import-traces`` reads it):
    its batch, record, run, trace columns, every verdict and trace verdict, every curation."""
    from ..store import Batch, Run, Verdict

    with Session(engine) as s:
        t = s.get(Trace, trace_id)
        rec = s.get(Record, t.record_id)
        batch = s.get(Batch, rec.batch_id)
        run = s.get(Run, t.run_id)
        claims = {c.id: c for c in s.exec(select(Claim).where(Claim.trace_id == trace_id)).all()}
        verdicts = s.exec(select(Verdict).where(Verdict.trace_id == trace_id).order_by(Verdict.id)).all()
        tvs = s.exec(select(TraceVerdict).where(TraceVerdict.trace_id == trace_id).order_by(TraceVerdict.id)).all()
        curs = s.exec(select(Curation).where(Curation.trace_id == trace_id).order_by(Curation.id)).all()
    node = lambda cid: claims[cid].node_id if cid in claims else None  # noqa: E731
    return {
        "format": ARCHIVE_FORMAT,
        "batch": {"name": batch.name, "content_hash": batch.content_hash, "kind": batch.kind,
                  "source_filename": batch.source_filename, "created_by": batch.created_by,
                  "created_at": _iso(batch.created_at), "n_records": batch.n_records, "meta": batch.meta},
        "record": {"index": rec.index, "position": rec.position, "raw": rec.raw, "preprocessed": rec.preprocessed,
                   "preprocessed_at": _iso(rec.preprocessed_at), "preprocess_error": rec.preprocess_error},
        "run": {"name": run.name, "created_at": _iso(run.created_at), "mode": run.mode, "provider": run.provider,
                "model": run.model, "tools": run.tools, "options": run.options, "status": run.status,
                "created_by": run.created_by, "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
                "error": run.error, "meta": run.meta},
        "trace": {k: getattr(t, k) for k in ("status", "source", "report", "explanation", "text_form", "raw_output",
                                             "tool_context", "findings", "errors", "prompt_version", "provider",
                                             "model", "prompt_tokens", "completion_tokens", "cost_usd", "latency_s",
                                             "meta")} | {"created_at": _iso(t.created_at)},
        "verdicts": [{"node_id": node(v.claim_id), "claim_hash": v.claim_hash, "verifier": v.verifier,
                      "version": v.version, "verdict": v.verdict, "score": v.score, "evidence": v.evidence,
                      "message": v.message, "created_at": _iso(v.created_at)} for v in verdicts],
        "trace_verdicts": [{"verdict": v.verdict, "policy": v.policy, "summary": v.summary,
                            "created_at": _iso(v.created_at)} for v in tvs],
        "curations": [{"target": c.target, "node_id": node(c.claim_id), "claim_hash": c.claim_hash,
                       "curator": c.curator, "judgment": c.judgment, "verdict": c.verdict, "tag": c.tag,
                       "note": c.note, "claim_snapshot": c.claim_snapshot, "app_version": c.app_version,
                       "created_at": _iso(c.created_at)} for c in curs],
    }


def _cur(c) -> dict[str, Any]:
    return {"curator": c.curator, "target": c.target, "claim_hash": c.claim_hash, "judgment": c.judgment,
            "verdict": c.verdict, "tag": c.tag, "note": c.note, "at": c.created_at.isoformat() if c.created_at else None}


def _original_row(doc: dict[str, Any]) -> dict[str, Any]:
    expl = Explanation.model_validate(doc["explanation"]) if doc["explanation"] else None
    explain = dag = None
    if expl is not None:
        from ..formalism.parser import format_call, format_value
        lines = [format_call("set_context", ({"id": expl.context_id} if expl.context_id else {}) | dict(expl.context))] if expl.has_context else []
        explain = "\n".join(lines + [node_to_text(n) for n in expl.nodes])
        dag = "\n".join(f"edge({format_value(e.source)}, {format_value(e.target)}, relation={format_value(e.relation)})" for e in expl.edges)
    return {"index": doc["record_index"], "input_perturbation": doc["record"], "thinking": expl.think if expl else None,
            "answer": expl.answer if expl else None, "explain": explain, "dag": dag, "raw_response": doc["text"],
            "question": None, "input_report_text": doc["report"],
            "additional_info": {"trace_id": doc["trace_id"], "model": doc["model"], "curation_status": doc["curation_status"],
                                "trace_verdict": (doc["trace_verdict"] or {}).get("verdict")}}


def _safe_doc(engine: Engine, trace_id: int, problems: list[str] | None) -> dict[str, Any]:
    """A trace's document with text that cannot be encoded (lone surrogates stored before ingest
    rejected them) replaced by U+FFFD; each replacement is reported in ``problems``."""
    doc, changed = scrub(_trace_doc(engine, trace_id))
    if changed and problems is not None:
        shown = ", ".join(dict.fromkeys(p for p in changed if not p.startswith("archive.")))[:300]
        problems.append(f"trace {trace_id}: text that cannot be encoded (lone surrogates) was replaced by U+FFFD in {shown}")
    return doc


def export_traces(engine: Engine, trace_ids: list[int], fmt: str = "jsonl", problems: list[str] | None = None) -> bytes:
    """The selected traces in ``fmt`` (jsonl, original, graphml), as bytes ready to write or download.

    ``problems`` (when given) receives one line per trace whose unencodable text was replaced.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    docs = [_safe_doc(engine, i, problems) for i in trace_ids]
    if fmt == "jsonl":
        return "".join(json.dumps(d, ensure_ascii=False, default=str) + "\n" for d in docs).encode("utf-8")
    if fmt == "original":
        return json.dumps([_original_row(d) for d in docs], ensure_ascii=False, indent=1, default=str).encode("utf-8")
    graph = nx.DiGraph()
    for d in docs:
        if d["explanation"]:
            verdicts = {c["node_id"]: c["effective_verdict"] for c in d["claims"]}
            sub = to_networkx(Explanation.model_validate(d["explanation"]), verdicts, prefix=f"t{d['trace_id']}:")
            nx.set_node_attributes(sub, d["trace_id"], "trace_id")
            graph.update(sub)
    buf = io.BytesIO()
    nx.write_graphml(graph, buf)
    return buf.getvalue()
