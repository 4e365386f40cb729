"""The entity names of a record, as the original built its literature queries from them.

The original joined the keys of ``{**perturbation_entity, **context_entity}`` (mention -> NER type)
with ", ". A record that has not been preprocessed falls back to its own fields: perturbation
names, gene symbols, targets, cell line or type, disease.
"""
from __future__ import annotations

from ...records.model import Record

CHEMICAL_TYPES = {"chemical", "drug", "compound", "small molecule", "small_molecule"}


def record_entities(record: Record) -> dict[str, str]:
    """Mention -> entity type for ``record`` (NER maps when preprocessed and not empty, else record fields)."""
    tagged = {**(record.perturbation_entity or {}), **(record.context_entity or {})}
    if tagged:
        return tagged
    out: dict[str, str] = {}  # not preprocessed, or NER found nothing: the record's own fields

    def add(name: str | None, kind: str) -> None:
        name = (name or "").strip()
        if name and name.lower() not in {k.lower() for k in out}:
            out[name] = kind

    for p in record.perturbations:
        genetic = (p.type or "").lower() in {"genetic", "gene", "crispr", "knockout", "knockdown", "rnai"}
        add(p.name, "Gene" if genetic and not p.smiles else "Chemical")
        add(p.gene_symbol, "Gene")
        for t in p.targets:
            add(t, "Gene")
    for c in record.contexts:
        add(c.cell_line, "CellLine")
        add(c.cell_type, "CellLine")
        add(c.disease, "Disease")
    return out


def build_query(record: Record) -> str:
    """The literature query: entity names joined by ", " (empty when the record names nothing)."""
    return ", ".join(record_entities(record))
