"""Preprocessing: entities (with spans and grounding) in a record's perturbation and context parts,
and PubChem information for chemical perturbations. Output keeps the original shape:
``perturbation_entity`` / ``context_entity`` (mention -> type) and ``pubchem_info``; ``entities``
adds spans and groundings."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from ..records.model import Record, preprocessing_output
from .entities import Entity
from .grounding import get_ner_backend, ground

__all__ = ["Entity", "get_ner_backend", "ground", "not_preprocessed", "preprocess_batch", "preprocess_record", "preprocess_records"]
MODES = ("ner-pubchem", "ner", "pubchem")


def _is_chemical(record: Record) -> bool:
    return any((p.type or "").lower() in ("chemical", "small molecule", "drug", "compound") or p.smiles for p in record.perturbations)


def _record_own_entities(rec: Record, backend) -> None:
    """What the record's fields say outright: a chemical perturbation's own ``name`` is a Chemical even
    when no vocabulary knows it ("AZ960"), and a context's cell type or line is a CellLine."""
    def add(part: str, text: str, mention: str, etype: str, table: dict) -> None:
        table[mention] = etype
        if any(e["text"] == mention and e["part"] == part and e["type"] == etype for e in rec.entities):
            return
        g = None
        try:
            g = backend.ground(mention, etype) if hasattr(backend, "ground") else None
        except Exception:  # noqa: BLE001 - grounding is a bonus here
            g = None
        start = text.find(mention)
        rec.entities.append({"text": mention, "type": etype, "start": start if start >= 0 else None,
                             "end": start + len(mention) if start >= 0 else None, "namespace": g.namespace if g else "record",
                             "identifier": g.identifier if g else None, "canonical": g.canonical if g else mention,
                             "part": part})
    pert_text, ctx_text = rec.perturbation_text(), rec.context_text()
    for p in rec.perturbations:
        if p.name and p.name.strip() and (p.smiles or (p.type or "").lower() in ("chemical", "small molecule", "drug", "compound")):
            add("perturbation", pert_text, p.name.strip(), "Chemical", rec.perturbation_entity)
    for c in rec.contexts:
        for cell in (c.cell_line, c.cell_type):
            if cell and cell.strip():
                add("context", ctx_text, cell.strip(), "CellLine", rec.context_entity)


def preprocess_record(record: Record, mode: str = "ner-pubchem", backend=None) -> Record:
    """Fill entities (modes with 'ner') and PubChem info (modes with 'pubchem'); returns a new record."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    rec = record.model_copy(deep=True)
    if "ner" in mode:
        backend = backend or get_ner_backend()
        pert_ents = backend.tag(rec.perturbation_text())
        ctx_ents = backend.tag(rec.context_text())
        rec.perturbation_entity = {e.text: e.type for e in pert_ents}
        rec.context_entity = {e.text: e.type for e in ctx_ents}
        rec.entities = [dict(e.to_dict(), part="perturbation") for e in pert_ents] + [dict(e.to_dict(), part="context") for e in ctx_ents]
        _record_own_entities(rec, backend)
    if "pubchem" in mode and _is_chemical(rec):
        from .pubchem import compound_info
        p = next(p for p in rec.perturbations if (p.type or "").lower() in ("chemical", "small molecule", "drug", "compound") or p.smiles)
        from .dictionary import strip_salt
        info = compound_info(smiles=p.smiles, name=strip_salt(p.name) if p.name else None)
        rec.pubchem_info = info
        common = info.get("name") if "error" not in info else None
        if common:
            rec.perturbation_entity = dict(rec.perturbation_entity or {})
            rec.perturbation_entity.setdefault(common, "Chemical")
    return rec


def preprocess_batch(engine, batch_id: int, mode: str = "ner-pubchem", progress: Callable[[int, int], bool | None] | None = None,
                     backend_name: str | None = None, redo: bool = False, lease=None) -> dict[str, int]:
    """Preprocess every not-yet-done record of a stored batch (resumable); a bad record is reported and skipped.

    ``redo`` preprocesses every record again (after a better NER backend, say); ``lease``: see
    :func:`preprocess_records`."""
    from sqlmodel import Session, select

    from ..store import Record as RecordRow

    query = select(RecordRow.id).where(RecordRow.batch_id == batch_id)
    if not redo:
        query = query.where(RecordRow.preprocessed_at.is_(None))
    with Session(engine) as s:
        todo = list(s.exec(query.order_by(RecordRow.position)).all())
    return preprocess_records(engine, todo, mode, progress, backend_name, lease=lease)


def not_preprocessed(engine, record_ids: list[int]) -> list[int]:
    """Those of ``record_ids`` never preprocessed, in the given order."""
    from sqlmodel import Session, select

    from ..store import Record as RecordRow

    pending: set[int] = set()
    with Session(engine) as s:
        for start in range(0, len(record_ids), 500):  # SQLite caps the number of bound parameters
            chunk = record_ids[start:start + 500]
            pending.update(s.exec(select(RecordRow.id).where(RecordRow.id.in_(chunk), RecordRow.preprocessed_at.is_(None))).all())
    return [rid for rid in record_ids if rid in pending]


def preprocess_records(engine, record_ids: list[int], mode: str = "ner-pubchem",
                       progress: Callable[[int, int], bool | None] | None = None,
                       backend_name: str | None = None, lease=None) -> dict[str, int]:
    """Preprocess these stored records, each in its own transaction; a bad record is reported and skipped.
    ``progress(done, total)`` returning True stops early (the rest stay to do).

    Each record is computed outside any transaction (NER and PubChem take time) and then written in a
    short one. ``lease`` (a preprocess job's :class:`~vcr_core.jobs.queue.Lease`) fences that write: once
    another worker owns the job nothing more is written and :class:`~vcr_core.jobs.queue.LeaseLost` is raised."""
    from sqlmodel import Session

    from ..jobs.queue import fence_or_raise, require_lease
    from ..store import Record as RecordRow
    from ..store import session_scope
    from ..store.traces import record_model

    counts = {"done": 0, "failed": 0, "total": len(record_ids)}
    require_lease(engine, lease, "preprocessing")
    backend = get_ner_backend(backend_name) if "ner" in mode and record_ids else None  # loading takes seconds: only when needed
    for k, rid in enumerate(record_ids):
        output, error = None, None
        with Session(engine) as reader:  # no write transaction is open while the record is computed
            try:
                output = preprocessing_output(preprocess_record(record_model(reader.get(RecordRow, rid)), mode, backend)) or {}
            except Exception as exc:  # noqa: BLE001 - one bad record never stops the batch
                error = f"{type(exc).__name__}: {exc}"
        with session_scope(engine) as s:
            fence_or_raise(s, lease, f"record {rid}'s preprocessing")
            row = s.get(RecordRow, rid)
            if error is None:
                row.preprocessed, row.preprocess_error = output, None
            else:
                row.preprocess_error = error
            row.preprocessed_at = datetime.now(timezone.utc)
            s.add(row)
        counts["done" if error is None else "failed"] += 1
        if progress and progress(k + 1, len(record_ids)):
            break
    return counts
