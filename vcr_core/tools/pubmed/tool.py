"""The "pubmed-fast-ner" tool: related papers for a record, formatted as the original prompt did.

As in the original: the query is the record's entity names joined by ", "; k = papers + 10 are
asked for (40 by default); papers without an abstract are dropped and the first
``pubmed_num_papers`` (30) kept; the prompt section is ``## RELATED PAPER LIST`` followed by the
list of ``{'title', 'abstract'}`` the original passed on.
"""
from __future__ import annotations

from ...records.model import Record
from ..base import ToolOptions, ToolResult, ToolStatus
from .papers import Paper, PubmedError, PubmedUnavailable
from .query import build_query
from .search import Backend, get_backend, pubmed_status, search_papers

HEADING = "RELATED PAPER LIST"
EXTRA_PAPERS = 10  # asked for beyond the papers kept, to make up for those without an abstract


def format_papers(papers: list[Paper]) -> str:
    """The original prompt section: the heading, then the Python list of title/abstract dicts."""
    listing = [{"title": p.title, "abstract": p.abstract} for p in papers]
    return f"## {HEADING}\n{listing}\n\n"


class PubmedTool:
    """Literature search with whichever backend is configured (server, native index, E-utilities)."""

    name = "pubmed-fast-ner"
    title = "PubMed related papers"

    def __init__(self, backend: Backend | None = None):
        self._backend = backend

    def backend(self) -> Backend:
        return self._backend or get_backend()

    def status(self) -> ToolStatus:
        return pubmed_status(self.backend())

    def run(self, record: Record, options: ToolOptions) -> ToolResult:
        query = build_query(record)
        if not query:
            return ToolResult(self.name, "empty", evidence={"papers": [], "query": ""},
                              error="the record names no perturbation, target or context to search for")
        backend = self.backend()
        keep = max(1, options.pubmed_num_papers)
        try:
            found = search_papers(query, keep + EXTRA_PAPERS, backend=backend)
        except PubmedUnavailable as exc:
            return ToolResult(self.name, "unavailable", error=str(exc), evidence={"query": query})
        except PubmedError as exc:
            return ToolResult(self.name, "error", error=str(exc), evidence={"query": query})
        papers = [p for p in found if p.has_abstract][:keep]
        evidence = {"papers": [p.to_dict() for p in papers], "query": query, "backend": backend.name,
                    "retrieved": len(found)}
        if not papers:
            return ToolResult(self.name, "empty", evidence=evidence)
        return ToolResult(self.name, "ok", prompt_text=format_papers(papers), evidence=evidence)
