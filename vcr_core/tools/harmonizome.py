"""The "harmonizome" tool: gene documents and gene-set associations from the Harmonizome API.

As the original used it: each target gene of the perturbation gets its gene document
(``/api/1.0/gene/{symbol}``: name, description, synonyms, proteins); the perturbation's name, the
cell type and the disease model are looked up as attributes (``/api/1.0/attribute/{name}``), whose
first gene set gives up to 20 associated genes, each with its gene document. The prompt section is
``## GENE INFORMATION`` with one ``### ...`` part per lookup.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote_plus

from ..net.http import HttpClient, HttpError, NetworkUnavailable
from ..records.model import Record
from .base import ToolOptions, ToolResult, ToolStatus, WebTool

HARMONIZOME_URL = "https://maayanlab.cloud/Harmonizome"
API = "api/1.0"
HEADING = "GENE INFORMATION"
RELATED_GENES = 20   # genes kept from a gene set, as the original
NOT_FOUND = {400, 404}


class HarmonizomeClient:
    """Gene, attribute and gene-set lookups; ``None`` when Harmonizome does not know the name."""

    def __init__(self, base_url: str = HARMONIZOME_URL, *, timeout_s: float = 20.0, retries: int = 2,
                 rate_per_s: float = 10.0, backoff_s: float = 0.5):
        self.http = HttpClient(base_url, name="Harmonizome", timeout_s=timeout_s, retries=retries,
                               rate_per_s=rate_per_s, backoff_s=backoff_s, cache_namespace="harmonizome",
                               cache_not_found=tuple(NOT_FOUND))

    def status(self) -> ToolStatus:
        return self.http.status()

    def _get(self, path: str) -> dict[str, Any] | None:
        try:
            data = self.http.get_json(path)
        except HttpError as exc:
            if exc.status in NOT_FOUND:
                return None
            raise
        # The API reports unknown names as {"status": ..., "message": ...}.
        if not isinstance(data, dict) or "status" in data:
            return None
        return data

    def gene(self, symbol: str) -> dict[str, Any] | None:
        """The gene record (symbol, name, description, synonyms, proteins) or None."""
        data = self._get(f"{API}/gene/{quote_plus(symbol)}")
        return data if data and data.get("name") else None

    def attribute(self, name: str) -> dict[str, Any] | None:
        """The attribute record (with its geneSets) or None."""
        data = self._get(f"{API}/attribute/{quote_plus(name)}")
        return data if data and data.get("geneSets") else None

    def gene_set_genes(self, href: str, limit: int = RELATED_GENES) -> list[str]:
        """Gene symbols of a gene set's associations (first ``limit``), from its API href."""
        data = self._get(href.lstrip("/").removeprefix("Harmonizome/"))
        rows = (data or {}).get("associations") or []
        symbols = [r.get("gene", {}).get("symbol") for r in rows if isinstance(r, dict)]
        return list(dict.fromkeys(s for s in symbols if s))[:limit]


def gene_document(gene: dict[str, Any]) -> str:
    """A gene record as the sentences the original prompt used."""
    proteins = ", ".join(p.get("symbol", "") for p in gene.get("proteins") or [] if isinstance(p, dict))
    lines = [f"The gene name is {gene.get('name', '')} and the gene symbol is {gene.get('symbol', '')}.",
             str(gene.get("description") or ""),
             f"The gene synonyms are {', '.join(gene.get('synonyms') or [])}.",
             f"The gene is related to the proteins {proteins}.", ""]
    return "\n" + "\n".join(lines) + "\n"


def gene_evidence(gene: dict[str, Any], role: str, via: str | None = None) -> dict[str, Any]:
    """The structured gene record kept as evidence."""
    return {"symbol": gene.get("symbol"), "name": gene.get("name"), "description": gene.get("description"),
            "synonyms": list(gene.get("synonyms") or []),
            "proteins": [p.get("symbol") for p in gene.get("proteins") or [] if isinstance(p, dict)],
            "role": role, "via": via}


def _record_lookups(record: Record) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(target genes, chemical perturbation names, [(context role, name)]) of a record."""
    targets: list[str] = []
    names: list[str] = []
    for p in record.perturbations:
        genetic = (p.type or "").lower() in {"genetic", "gene", "crispr", "knockout", "knockdown", "rnai"}
        targets += p.targets + [p.gene_symbol or (p.name if genetic else None)]
        if not genetic and p.name:
            names.append(p.name)
    targets += [m for m, t in (record.perturbation_entity or {}).items() if t == "Gene"]
    ctx = record.context
    context = [("cell type", c) for c in [ctx.cell_type or ctx.cell_line] if c]
    context += [("disease model", ctx.disease)] if ctx.disease else []
    return _unique(targets), _unique(names), context


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(x.strip() for x in items if x and x.strip()))


class HarmonizomeTool(WebTool):
    """Gene information for a record's targets, perturbation name and context."""

    name = "harmonizome"
    title = "Harmonizome gene information"

    service = "Harmonizome"
    client_class = HarmonizomeClient

    def _gene_set_part(self, heading: str, sentence: str, name: str, role: str, ev: dict) -> str:
        attr = self.client.attribute(name)
        if not attr:
            return ""
        first = attr["geneSets"][0]
        symbols = self.client.gene_set_genes(first.get("href", ""))
        with ThreadPoolExecutor(self.workers) as pool:
            genes = list(pool.map(self._safe_gene, symbols))
        ev["gene_sets"].append({"query": name, "role": role, "attribute": attr.get("name", name),
                                "gene_set": first.get("name"), "genes": symbols})
        ev["genes"] += [gene_evidence(g, "related", via=name) for g in genes if g]
        docs = "".join(gene_document(g) for g in genes if g)
        return (f"### {heading}\n{sentence} {name}. \nThe related genes are {', '.join(symbols)}.\n\n"
                f"The gene information is as follows:\n{docs}")

    def _safe_gene(self, symbol: str) -> dict[str, Any] | None:
        try:
            return self.client.gene(symbol)
        except HttpError:
            return None  # one related gene failing leaves the others

    def run(self, record: Record, options: ToolOptions) -> ToolResult:
        targets, names, context = _record_lookups(record)
        ev: dict[str, Any] = {"genes": [], "gene_sets": [], "errors": []}
        parts: list[str] = []
        try:
            for t in targets:
                gene = self._lookup(lambda: self.client.gene(t), t, ev)
                if gene:
                    ev["genes"].append(gene_evidence(gene, "target"))
                    parts.append(f"### TARGET GENE INFORMATION\nThe target gene of the perturbation is {t}. "
                                 + gene_document(gene))
            for n in names:
                parts.append(self._lookup(lambda: self._gene_set_part(
                    "PERTURBATION NAME INFORMATION", "The perturbation name is", n, "perturbation", ev), n, ev) or "")
            for role, value in context:
                parts.append(self._context_part(role, value, ev))
        except NetworkUnavailable as exc:
            return ToolResult(self.name, "unavailable", error=str(exc), evidence=ev)
        body = "".join(parts)
        if not body:
            status = "error" if ev["errors"] else "empty"
            return ToolResult(self.name, status, evidence=ev, error="; ".join(ev["errors"]) or None)
        return ToolResult(self.name, "ok", prompt_text=f"## {HEADING}\n{body}\n\n", evidence=ev)

    def _context_part(self, role: str, value: str, ev: dict) -> str:
        heading, sentence = (("CELL TYPE INFORMATION", "The cell type of the context is") if role == "cell type"
                             else ("DISEASE MODEL INFORMATION", "The disease model of the context is"))
        # As the original did for disease models: the whole name, then its words, until one is known.
        candidates = [value] + ([w for w in value.split() if len(w) > 2] if role == "disease model" else [])
        for cand in dict.fromkeys(candidates):
            part = self._lookup(lambda: self._gene_set_part(heading, sentence, cand, role, ev), cand, ev)
            if part:
                return part
        return ""

    @staticmethod
    def _lookup(fn, what: str, ev: dict):
        try:
            return fn()
        except HttpError as exc:
            ev["errors"].append(f"{what}: {exc}")
            return None
