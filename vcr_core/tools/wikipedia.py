"""The "wikipedia" tool: the Wikipedia page extract for each entity of a record.

For every entity name (as the literature query uses them) the MediaWiki API is searched and the
plain-text extract of the best page kept (first 4,000 characters, as the original retriever did).
The prompt section is ``## WIKIPEDIA INFORMATION`` followed by ``## {entity}`` and the text.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from ..net.http import HttpClient, HttpError, NetworkUnavailable
from ..records.model import Record
from .base import ToolOptions, ToolResult, ToolStatus, WebTool
from .pubmed.query import record_entities

WIKIPEDIA_API = "https://en.wikipedia.org/w/api.php"
HEADING = "WIKIPEDIA INFORMATION"
MAX_CHARS = 4000


class WikipediaClient:
    """MediaWiki search and page extracts."""

    def __init__(self, api_url: str = WIKIPEDIA_API, *, timeout_s: float = 20.0, retries: int = 2,
                 rate_per_s: float = 10.0, backoff_s: float = 0.5):
        self.api_url = api_url
        self.http = HttpClient(api_url, name="Wikipedia", timeout_s=timeout_s, retries=retries,
                               rate_per_s=rate_per_s, backoff_s=backoff_s, cache_namespace="wikipedia")

    def status(self) -> ToolStatus:
        return self.http.status()

    def _query(self, **params) -> dict[str, Any]:
        data = self.http.get_json("", {"action": "query", "format": "json", "formatversion": "2", **params})
        if not isinstance(data, dict):
            raise HttpError(f"Wikipedia answered {type(data).__name__}, not an object")
        if "error" in data:
            err = data["error"]
            raise HttpError(f"Wikipedia API error: {err.get('info', err) if isinstance(err, dict) else err}")
        return data.get("query") or {}

    def search(self, text: str, limit: int = 1) -> list[str]:
        """Titles of the best pages for ``text``."""
        hits = self._query(list="search", srsearch=text, srlimit=limit).get("search") or []
        return [h["title"] for h in hits if isinstance(h, dict) and h.get("title")]

    def extract(self, title: str) -> dict[str, Any] | None:
        """{pageid, title, extract} of a page (plain text), or None when missing."""
        pages = self._query(prop="extracts", explaintext="1", redirects="1", titles=title).get("pages") or []
        for page in pages:
            if isinstance(page, dict) and not page.get("missing") and page.get("extract"):
                return {"pageid": page.get("pageid"), "title": page.get("title", title), "extract": page["extract"]}
        return None

    def page_for(self, entity: str) -> dict[str, Any] | None:
        """The best page for an entity name, with its extract cut to MAX_CHARS."""
        titles = self.search(entity)
        if not titles:
            return None
        page = self.extract(titles[0])
        if not page:
            return None
        base = self.api_url.rsplit("/w/api.php", 1)[0]
        return {"entity": entity, "title": page["title"], "pageid": page["pageid"],
                "url": f"{base}/wiki/{quote(page['title'].replace(' ', '_'))}", "extract": page["extract"][:MAX_CHARS]}


class WikipediaTool(WebTool):
    """Wikipedia extracts for a record's entities."""

    name = "wikipedia"
    title = "Wikipedia pages"

    service = "Wikipedia"
    client_class = WikipediaClient

    def _fetch(self, entity: str) -> tuple[str, dict[str, Any] | None, Exception | None]:
        try:
            return entity, self.client.page_for(entity), None
        except (HttpError, NetworkUnavailable) as exc:
            return entity, None, exc

    def run(self, record: Record, options: ToolOptions) -> ToolResult:
        entities = list(dict.fromkeys(record_entities(record)))
        if not entities:
            return ToolResult(self.name, "empty", evidence={"pages": []},
                              error="the record names no entity to look up")
        with ThreadPoolExecutor(min(self.workers, len(entities))) as pool:
            results = list(pool.map(self._fetch, entities))
        pages = [page for _, page, _ in results if page]
        errors = [f"{entity}: {exc}" for entity, _, exc in results if exc]
        evidence = {"pages": pages, "errors": errors}
        offline = [e for _, _, e in results if isinstance(e, NetworkUnavailable)]
        if not pages:
            if offline:
                return ToolResult(self.name, "unavailable", evidence=evidence, error=str(offline[0]))
            return ToolResult(self.name, "error" if errors else "empty", evidence=evidence,
                              error="; ".join(errors) or None)
        body = "".join(f"## {p['entity']}\n{p['extract']}\n\n" for p in pages)
        return ToolResult(self.name, "ok", prompt_text=f"## {HEADING}\n{body}\n\n", evidence=evidence)
