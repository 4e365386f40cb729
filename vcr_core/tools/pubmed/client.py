"""Client for the original fast-search server contract.

``POST {base}/find_matches {"query": str, "k": 1..100}`` answers a list sorted by distance of
``{pmid, distance, authors, title, abstract, publication_year}``; errors are plain text with HTTP
400, 500 or 502. ``vcr pubmed serve`` speaks the same contract.
"""
from __future__ import annotations

from ...net.http import HttpClient, HttpError, NetworkUnavailable
from ..base import ToolStatus
from .papers import Paper, PubmedError, PubmedUnavailable

MAX_K = 100


class FindMatchesClient:
    """Talks to a ``/find_matches`` server at ``base_url`` (e.g. http://localhost:8003)."""

    def __init__(self, base_url: str, *, timeout_s: float = 60.0, retries: int = 1):
        self.base_url = base_url.rstrip("/")
        # Answers are not cached: a server's index can change, and it is local and fast anyway.
        self.http = HttpClient(self.base_url, name=f"PubMed server at {self.base_url}", timeout_s=timeout_s,
                               retries=retries, backoff_s=0.25, cache_ttl_s=None)

    @property
    def name(self) -> str:
        return "server"

    def status(self) -> ToolStatus:
        st = self.http.status()
        if st.available:
            return ToolStatus(True, detail=f"PubMed server at {self.base_url}")
        return ToolStatus(False, f"the PubMed server at {self.base_url} is not reachable ({st.reason})")

    def find_matches(self, query: str, k: int = 40) -> list[Paper]:
        """Papers for ``query``, best first; PubmedUnavailable when down, PubmedError on an error answer."""
        if not query.strip():
            raise PubmedError("empty query: the record names no entity to search the literature for")
        k = max(1, min(int(k), MAX_K))
        try:
            answer = self.http.post_json("/find_matches", {"query": query, "k": k})
        except NetworkUnavailable as exc:
            raise PubmedUnavailable(f"the PubMed server at {self.base_url} is down or unreachable: {exc}") from exc
        except HttpError as exc:
            raise PubmedError(f"the PubMed server at {self.base_url} failed: {exc}") from exc
        try:
            rows = answer.json()
        except ValueError as exc:
            raise PubmedError(f"the PubMed server at {self.base_url} answered something that is not JSON: "
                              f"{answer.text[:200]!r}") from exc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise PubmedError(f"the PubMed server at {self.base_url} answered {type(rows).__name__}, "
                              "not a list of papers")
        return [Paper.from_match(r) for r in rows]

    search = find_matches
