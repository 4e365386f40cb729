"""Perturbation records: both input shapes of the original pipeline -> one normalised model.

Shapes accepted (missing fields allowed; ``null``, ``"N/A"`` and ``""`` mean unknown):

* Tahoe style, a list of ``{"index", "perturbation": {"context": [...] | {...}, "perturbations": [...]}}``
  with keys that may contain spaces ("perturbation type", "known targets", "cell type", "gene symbol").
* Single style, ``{"context": {...}, "perturbation": {...}}`` (perturbation_type, description,
  cell_type, disease_model; type, smiles, name, target as a string or a list, moa_type).
* Either of the above after preprocessing, with ``perturbation_entity``, ``context_entity`` and
  ``pubchem_info``: these load as they are.

The raw record is always kept, so a record can be written back exactly as it came.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

UNKNOWN = (None, "", "N/A", "n/a", "NA", "null", "None", "nan")

# Normalised key -> our field name (keys are lower-cased, spaces and dashes become underscores).
_PERT_KEYS = {
    "perturbation_type": "type", "type": "type", "pert_type": "type",
    "name": "name", "drug": "name", "drug_name": "name", "compound": "name", "compound_name": "name",
    "gene_symbol": "gene_symbol", "gene": "gene_symbol", "target_gene": "gene_symbol",
    "smiles": "smiles", "canonical_smiles": "smiles",
    "target": "targets", "targets": "targets", "known_targets": "targets",
    "moa_type": "moa_type", "moa": "moa_type", "mechanism_of_action": "moa_type",
    "description": "description", "dose": "dose", "concentration": "dose",
}
_CTX_KEYS = {
    "cell_type": "cell_type", "cell_line": "cell_line", "cell_name": "cell_line", "cell_line_name": "cell_line",
    "disease_model": "disease", "disease": "disease", "tissue": "tissue", "organism": "organism",
    "description": "description", "genotype": "genotype",
}


class RecordProblem(BaseModel):
    """A validation problem in an input file: record index (or position), field path, message."""

    index: str | None = None
    position: int | None = None
    path: str = ""
    message: str

    def __str__(self) -> str:
        # The position identifies the record even when its index is repeated or wrong.
        if self.position is not None:
            where = f"record #{self.position}" + (f" (index {self.index})" if self.index not in (None, str(self.position)) else "")
        else:
            where = f"record {self.index}" if self.index is not None else "file"
        return f"{where}{' ' + self.path if self.path else ''}: {self.message}"


class Perturbation(BaseModel):
    """One perturbation (a drug, a knockout, a soluble factor)."""

    type: str | None = None
    name: str | None = None
    gene_symbol: str | None = None
    smiles: str | None = None
    targets: list[str] = Field(default_factory=list)
    moa_type: str | None = None
    description: str | None = None
    dose: str | None = None
    extras: dict[str, Any] = Field(default_factory=dict)
    pubchem_info: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.name or self.gene_symbol or (self.smiles[:40] if self.smiles else None) or "unknown perturbation"


class CellContext(BaseModel):
    """The cell context a perturbation acts in."""

    cell_type: str | None = None
    cell_line: str | None = None
    disease: str | None = None
    tissue: str | None = None
    organism: str | None = None
    genotype: str | None = None
    description: str | None = None
    extras: dict[str, Any] = Field(default_factory=dict)

    @property
    def named(self) -> str | None:
        """The context's most specific text, whichever field of whichever input shape holds it: a cell line
        or type, a disease, a tissue, a free description ('IFN gamma stimulation'), a genotype, or the
        first text among the fields this model does not name (e.g. 'condition'); None when there is none."""
        for v in (self.cell_line, self.cell_type, self.disease, self.tissue, self.description, self.genotype):
            if v and v.strip():
                return _short(v)
        for v in self.extras.values():
            if isinstance(v, str) and not _unknown(v):
                return _short(v)
        return None

    @property
    def label(self) -> str:
        return self.named or "unknown context"


class Record(BaseModel):
    """A normalised perturbation record; ``raw`` is the record exactly as it was read."""

    index: str
    shape: str = Field(description="'tahoe' or 'single'")
    perturbations: list[Perturbation] = Field(default_factory=list)
    contexts: list[CellContext] = Field(default_factory=list)
    description: str | None = None
    perturbation_entity: dict[str, str] | None = None
    context_entity: dict[str, str] | None = None
    pubchem_info: dict[str, Any] | None = None
    entities: list[dict[str, Any]] | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @property
    def context(self) -> CellContext:
        """The first context (most records have exactly one)."""
        return self.contexts[0] if self.contexts else CellContext()

    @property
    def perturbation(self) -> Perturbation:
        return self.perturbations[0] if self.perturbations else Perturbation()

    @property
    def label(self) -> str:
        perts = " + ".join(p.label for p in self.perturbations) or "unknown perturbation"
        return f"{perts} in {self.context.label}"

    @property
    def preprocessed(self) -> bool:
        return self.perturbation_entity is not None or self.context_entity is not None

    def context_key(self) -> dict[str, Any]:
        """The context a claim hash depends on: perturbation identity and cell context."""
        c = self.context
        return {
            "perturbation": " + ".join(sorted(p.label for p in self.perturbations)),
            "cell": c.cell_line or c.cell_type,
            "disease": c.disease,
        }

    def perturbation_text(self) -> str:
        """The perturbation part as text, as NER and prompts see it."""
        parts = []
        for p in self.perturbations:
            bits = [f"{k}: {v}" for k, v in (("type", p.type), ("name", p.name), ("gene", p.gene_symbol),
                                               ("targets", ", ".join(p.targets) or None), ("mechanism", p.moa_type),
                                               ("description", p.description), ("dose", p.dose)) if v]
            bits += [f"{k}: {v}" for k, v in p.extras.items() if isinstance(v, (str, int, float)) and not _unknown(v)]
            parts.append("; ".join(bits))
        if self.description:
            parts.append(self.description)
        return "\n".join(parts)

    def context_text(self) -> str:
        """The context part as text."""
        parts = []
        for c in self.contexts:
            bits = [f"{k}: {v}" for k, v in (("cell type", c.cell_type), ("cell line", c.cell_line), ("disease", c.disease),
                                               ("tissue", c.tissue), ("organism", c.organism), ("genotype", c.genotype),
                                               ("description", c.description)) if v]
            bits += [f"{k}: {v}" for k, v in c.extras.items() if isinstance(v, (str, int, float)) and not _unknown(v)]
            parts.append("; ".join(bits))
        return "\n".join(parts)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _unknown(v: Any) -> bool:
    return isinstance(v, (str, type(None))) and (v is None or v.strip() in UNKNOWN)


def _norm_key(k: str) -> str:
    return str(k).strip().lower().replace(" ", "_").replace("-", "_")


def _text(v: Any, path: str, problems: list[RecordProblem]) -> str | None:
    if _unknown(v):
        return None
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return str(v).strip()
    problems.append(RecordProblem(path=path, message=f"expected text, found {type(v).__name__}"))
    return None


def _text_list(v: Any, path: str, problems: list[RecordProblem]) -> list[str]:
    if _unknown(v):
        return []
    if isinstance(v, str):
        # "EGFR, ERBB2" or "EGFR;ERBB2" or a single symbol.
        return [t.strip() for t in v.replace(";", ",").split(",") if t.strip() and t.strip() not in UNKNOWN]
    if isinstance(v, list):
        out = []
        for i, item in enumerate(v):
            t = _text(item, f"{path}[{i}]", problems)
            if t:
                out.append(t)
        return out
    problems.append(RecordProblem(path=path, message=f"expected text or a list of text, found {type(v).__name__}"))
    return []


def _parse_perturbation(obj: Any, path: str, problems: list[RecordProblem]) -> Perturbation | None:
    if _unknown(obj):
        return None
    if not isinstance(obj, dict):
        problems.append(RecordProblem(path=path, message=f"a perturbation must be an object, found {type(obj).__name__}"))
        return None
    pert = Perturbation()
    for key, value in obj.items():
        field = _PERT_KEYS.get(_norm_key(key))
        sub = f"{path}.{key}"
        if key == "pubchem_info":
            pert.pubchem_info = value if isinstance(value, dict) else {"error": str(value)}
        elif field == "targets":
            # a set beside the list keeps merging linear (30,000 targets were quadratic)
            known = set(pert.targets)
            for t in _text_list(value, sub, problems):
                if t not in known:
                    known.add(t)
                    pert.targets.append(t)
        elif field:
            if getattr(pert, field) is None:
                setattr(pert, field, _text(value, sub, problems))
        elif not _unknown(value):
            pert.extras[key] = value
    if pert.type is None and pert.gene_symbol and not pert.smiles:
        pert.type = "genetic"
    return pert


def _parse_context(obj: Any, path: str, problems: list[RecordProblem]) -> list[CellContext]:
    if _unknown(obj):
        return []
    items = obj if isinstance(obj, list) else [obj]
    out = []
    for i, item in enumerate(items):
        sub = f"{path}[{i}]" if isinstance(obj, list) else path
        if _unknown(item):
            continue
        if isinstance(item, str):
            out.append(CellContext(description=item.strip()))
            continue
        if not isinstance(item, dict):
            problems.append(RecordProblem(path=sub, message=f"a context must be an object, found {type(item).__name__}"))
            continue
        ctx = CellContext()
        for key, value in item.items():
            field = _CTX_KEYS.get(_norm_key(key))
            if field and getattr(ctx, field) is None:
                setattr(ctx, field, _text(value, f"{sub}.{key}", problems))
            elif not _unknown(value):
                ctx.extras[key] = value
        out.append(ctx)
    return out


_BAD_INDEX = object()
_INTEGRAL = re.compile(r"[+-]?\d+(?:\.0*)?(?:[eE]\+?\d+)?")


def normalize_index(value: Any) -> Any:
    """The canonical text of a record index, so 1, 1.0, "1" and " 1" are one index; None for no index.

    ``null``, absent and blank text mean no index (never the text "None"); objects, lists and
    booleans return a marker the caller reports as a problem.
    """
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        return _BAD_INDEX
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return _BAD_INDEX
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    if not text:
        return None
    if _INTEGRAL.fullmatch(text) and len(text) < 40:
        try:
            number = float(text)
            if number.is_integer() and abs(number) < 2**53:
                return str(int(number))
        except ValueError:
            pass
    return text


def parse_record(obj: Any, position: int) -> tuple[Record | None, list[RecordProblem]]:
    """Normalise one record. Returns (record or None, problems); problems carry the index and path."""
    problems: list[RecordProblem] = []
    if not isinstance(obj, dict):
        return None, [RecordProblem(position=position, message=f"a record must be a JSON object, found {type(obj).__name__}")]
    index = normalize_index(obj.get("index"))
    if index is _BAD_INDEX:
        problems.append(RecordProblem(position=position, path="index", message="index must be a number or text"))
        index = None
    if index is None:  # no index (absent, null or blank): the record's position stands in
        index = str(position)
    pert_part = obj.get("perturbation")
    record = Record(index=index, shape="single", raw=obj)
    if isinstance(pert_part, dict) and ("perturbations" in pert_part or "context" in pert_part and "context" not in obj):
        record.shape = "tahoe"
        perts = pert_part.get("perturbations")
        if perts is not None and not isinstance(perts, list):
            perts = [perts]
        for i, p in enumerate(perts or []):
            parsed = _parse_perturbation(p, f"perturbation.perturbations[{i}]", problems)
            if parsed:
                record.perturbations.append(parsed)
        record.contexts = _parse_context(pert_part.get("context"), "perturbation.context", problems)
        record.description = _text(pert_part.get("description"), "perturbation.description", problems)
    elif "perturbation" in obj or "context" in obj:
        parsed = _parse_perturbation(pert_part, "perturbation", problems)
        if parsed:
            record.perturbations.append(parsed)
        ctx = obj.get("context")
        if isinstance(ctx, dict):
            # perturbation_type and description of the single shape live in the context object.
            ctx = dict(ctx)
            ptype = ctx.pop("perturbation_type", None)
            if parsed and parsed.type is None and not _unknown(ptype):
                parsed.type = _text(ptype, "context.perturbation_type", problems)
            desc = ctx.pop("description", None)
            record.description = _text(desc, "context.description", problems)
        record.contexts = _parse_context(ctx, "context", problems)
        if record.description and not any(c.named for c in record.contexts):
            # The context object held only a description ("IFN gamma stimulation"): it is the context's text.
            record.contexts = (record.contexts or [CellContext()])[:1] + record.contexts[1:]
            record.contexts[0].description = record.description
    else:
        problems.append(RecordProblem(position=position, message="neither shape: expected a 'perturbation' and/or 'context' key"))
        return None, _stamp(problems, index, position)
    if not record.perturbations and not record.contexts:
        problems.append(RecordProblem(path="perturbation", message="no perturbation and no context: nothing to explain"))
    for key in ("perturbation_entity", "context_entity"):
        if key in obj:
            val = obj[key]
            if isinstance(val, dict) and all(isinstance(v, str) for v in val.values()):
                setattr(record, key, {str(k): v for k, v in val.items()})
            else:
                problems.append(RecordProblem(path=key, message="must map each mention to its type (text)"))
    if isinstance(obj.get("pubchem_info"), dict):
        record.pubchem_info = obj["pubchem_info"]
    elif record.perturbations and record.perturbation.pubchem_info:
        record.pubchem_info = record.perturbation.pubchem_info
    if isinstance(obj.get("entities"), list):
        record.entities = obj["entities"]
    return record, _stamp(problems, index, position)


def _stamp(problems: list[RecordProblem], index: str, position: int) -> list[RecordProblem]:
    for p in problems:
        p.index, p.position = index, position
    return problems


MAX_PROBLEMS = 100  # problems listed in full; the rest are only counted


class ProblemList:
    """Problems of one file: the first ``limit`` kept in full, every one counted."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.items: list[RecordProblem] = []
        self.count = 0

    def add(self, problem: RecordProblem) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(problem)

    def extend(self, problems: list[RecordProblem]) -> None:
        for p in problems:
            self.add(p)

    def listed(self) -> list[RecordProblem]:
        """The kept problems, plus one line saying how many more there were."""
        more = self.count - len(self.items)
        tail = [RecordProblem(message=f"... and {more} more problem(s) not listed (only the first {self.limit} are shown)")]
        return self.items + (tail if more > 0 else [])


class RecordChecker:
    """Checks records one at a time (streaming): normalises each, and finds duplicate indices by
    their normalised form with the position of both records."""

    def __init__(self, problems: ProblemList | None = None) -> None:
        self.problems = problems or ProblemList()
        self.seen: dict[str, int] = {}
        self.n_records = 0

    def check(self, item: Any, pos: int) -> Record | None:
        rec, probs = parse_record(item, pos)
        self.problems.extend(probs)
        if rec is None:
            return None
        self.n_records += 1
        first = self.seen.setdefault(rec.index, pos)
        if first != pos:
            self.problems.add(RecordProblem(position=pos, path="index",
                                            message=f"duplicate index {rec.index!r} (also record #{first})"))
        return rec


def parse_records(data: Any) -> tuple[list[Record], list[RecordProblem]]:
    """Normalise a whole decoded file (a list of records, or one record object)."""
    if isinstance(data, dict):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        return [], [RecordProblem(message=f"the top level must be a list of records or one record object, found {type(data).__name__}")]
    checker = RecordChecker()
    records = [r for r in (checker.check(item, pos) for pos, item in enumerate(items)) if r is not None]
    return records, checker.problems.listed()


PREPROCESSING_FIELDS = ("perturbation_entity", "context_entity", "pubchem_info", "entities")


def preprocessing_output(record: Record) -> dict[str, Any] | None:
    """The preprocessing fields a record carries (what the store keeps in ``Record.preprocessed``), or None."""
    return {k: getattr(record, k) for k in PREPROCESSING_FIELDS if getattr(record, k) is not None} or None


def to_preprocessed_dict(record: Record) -> dict[str, Any]:
    """The record in the original preprocessed output shape (raw fields + entity maps + pubchem_info)."""
    out = dict(record.raw)
    if record.perturbation_entity is not None:
        out["perturbation_entity"] = record.perturbation_entity
    if record.context_entity is not None:
        out["context_entity"] = record.context_entity
    if record.pubchem_info is not None:
        out["pubchem_info"] = record.pubchem_info
    if record.entities is not None:
        out["entities"] = record.entities
    return out
