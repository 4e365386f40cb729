"""Comparison across files and models: records that name the same perturbation in the same context
are one comparison group, whichever file (the original pipeline's Claude and Gemini outputs, say) or
run they came from.

The **record identity key** is a hash of the normalised perturbation(s) and cell context (cell line or
type, disease, tissue, organism), case- and space-insensitive; the record's index and the file do
not enter it.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..store import Record, Run, Trace


def _norm(v: Any) -> str | None:
    if v is None:
        return None
    text = re.sub(r"\s+", " ", str(v)).strip().lower()
    return text or None


def identity_key(normalized: dict[str, Any] | None, perturbation_name: str | None = None,
                 context_label: str | None = None) -> str:
    """The record identity key: normalised perturbation(s) + context hash (16 hex characters)."""
    n = normalized or {}
    perts = sorted(filter(None, (_norm(p.get("name") or p.get("gene_symbol") or p.get("smiles")) for p in n.get("perturbations") or [])))
    ctx = (n.get("contexts") or [{}])[0] or {}
    key = {"perturbations": perts or [_norm(perturbation_name)],
           "cell": _norm(ctx.get("cell_line") or ctx.get("cell_type")) or (None if n.get("contexts") else _norm(context_label)),
           "disease": _norm(ctx.get("disease")), "tissue": _norm(ctx.get("tissue")), "organism": _norm(ctx.get("organism"))}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def comparison_groups(engine: Engine, *, min_traces: int = 2) -> list[dict[str, Any]]:
    """Groups of records (by identity key) with at least ``min_traces`` traces between them:
    ``{"key", "label", "record_ids", "trace_ids", "sources"}``, largest first."""
    with Session(engine) as s:
        rows = s.exec(select(Record.id, Record.label, Record.normalized, Record.perturbation_name, Record.context_label)
                      .where(Record.id.in_(select(Trace.record_id)))).all()
        traces = s.exec(select(Trace.id, Trace.record_id)).all()
    by_record: dict[int, list[int]] = {}
    for tid, rid in traces:
        by_record.setdefault(rid, []).append(tid)
    groups: dict[str, dict[str, Any]] = {}
    for rid, label, normalized, pert, ctx in rows:
        g = groups.setdefault(identity_key(normalized, pert, ctx), {"label": label, "record_ids": [], "trace_ids": []})
        g["record_ids"].append(rid)
        g["trace_ids"].extend(by_record.get(rid, []))
    out = [{"key": k, **g} for k, g in groups.items() if len(g["trace_ids"]) >= min_traces]
    return sorted(out, key=lambda g: (-len(g["trace_ids"]), g["label"]))


def trace_labels(engine: Engine, trace_ids: list[int]) -> dict[int, str]:
    """'#12 · run 3 (claude_outputs) · claude-sonnet' per trace: which file or run and which model."""
    with Session(engine) as s:
        rows = s.exec(select(Trace.id, Trace.run_id, Trace.model, Run.name).join(Run, Run.id == Trace.run_id)
                      .where(Trace.id.in_(trace_ids))).all()
    return {tid: f"#{tid} · run {rid} ({name}) · {model or 'imported'}" for tid, rid, model, name in sorted(rows)}
