"""The paper record every PubMed backend returns, and the errors they raise."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# The original servers wrote this text where an article had no abstract.
NO_ABSTRACT = {"", "Abstract not found"}


class PubmedError(RuntimeError):
    """A PubMed backend failed (server error, bad answer, time-out); the message says which and why."""


class PubmedUnavailable(PubmedError):
    """No PubMed backend can run here (nothing configured, offline, server down); the message says why."""


@dataclass(frozen=True)
class Paper:
    """One article: PMID (text), title, abstract, publication year, authors, and the search distance."""

    pmid: str
    title: str = ""
    abstract: str | None = None
    year: int | None = None
    authors: str = ""
    distance: float | None = None

    @property
    def has_abstract(self) -> bool:
        return bool(self.abstract) and self.abstract.strip() not in NO_ABSTRACT

    def to_dict(self) -> dict[str, Any]:
        """pmid, title, abstract, year, authors, distance (evidence shape)."""
        return asdict(self)

    def to_match(self) -> dict[str, Any]:
        """The original ``/find_matches`` row shape."""
        return {"pmid": self.pmid, "distance": self.distance, "authors": self.authors, "title": self.title,
                "abstract": self.abstract, "publication_year": self.year}

    @classmethod
    def from_match(cls, row: dict[str, Any]) -> "Paper":
        """Build from a ``/find_matches`` row (tolerant of missing fields and numeric PMIDs)."""
        return cls(pmid=str(row.get("pmid", "")).strip(), title=str(row.get("title") or ""),
                   abstract=row.get("abstract"), year=parse_year(row.get("publication_year")),
                   authors=_authors_text(row.get("authors")), distance=_float(row.get("distance")))


def parse_year(value: Any) -> int | None:
    """A four-digit year from an int, '2019', '2019-03-01' or 'Spring 2019'; None when absent."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    for i in range(len(text) - 3):
        chunk = text[i:i + 4]
        if chunk.isdigit() and chunk[0] in "12":
            return int(chunk)
    return None


def _authors_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
