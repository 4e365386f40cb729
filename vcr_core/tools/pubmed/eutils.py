"""PubMed through NCBI E-utilities (esearch + efetch), for users with internet and no local database.

NCBI allows 3 requests per second without an API key and 10 with one (``NCBI_API_KEY``); beyond that
it answers HTTP 429, which the shared HTTP helper retries after ``Retry-After``. The query is the
record's entity list ("imatinib, ABL1, K562"): first all entities together (AND), then, when that
finds fewer than k articles, any of them (OR), both by PubMed's relevance ranking.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ...net.http import HttpClient, HttpError, NetworkUnavailable
from ..base import ToolStatus
from .papers import Paper, PubmedError, PubmedUnavailable, parse_year

EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
TOOL_NAME = "vcr-curation"
MAX_K = 100


class EutilsClient:
    """esearch + efetch over the shared HTTP helper, rate limited for NCBI's published limits."""

    name = "eutils"

    def __init__(self, base_url: str = EUTILS_URL, *, api_key: str | None = None, timeout_s: float = 30.0,
                 retries: int = 3, backoff_s: float = 1.0, rate_per_s: float | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        rate = rate_per_s or (10.0 if api_key else 3.0)
        self.http = HttpClient(self.base_url, name="NCBI E-utilities", timeout_s=timeout_s, retries=retries,
                               backoff_s=backoff_s, rate_per_s=rate, cache_namespace="eutils")

    def status(self) -> ToolStatus:
        st = self.http.status()
        if not st.available:
            return ToolStatus(False, f"NCBI E-utilities: {st.reason}")
        key = "with an API key (10 requests/s)" if self.api_key else "without an API key (3 requests/s)"
        return ToolStatus(True, detail=f"NCBI E-utilities at {self.base_url}, {key}")

    def _params(self, **extra) -> dict:
        params = {"db": "pubmed", "tool": TOOL_NAME, **extra}
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def esearch(self, term: str, retmax: int) -> tuple[int, list[str]]:
        """(total count, PMIDs in relevance order) for a PubMed query."""
        data = self._get_json("esearch.fcgi", self._params(term=term, retmax=retmax, retmode="json", sort="relevance"))
        result = data.get("esearchresult") if isinstance(data, dict) else None
        if not isinstance(result, dict):
            raise PubmedError(f"NCBI esearch answered without an esearchresult: {str(data)[:200]}")
        if result.get("ERROR"):
            raise PubmedError(f"NCBI esearch error: {result['ERROR']}")
        return int(result.get("count") or 0), [str(x) for x in result.get("idlist", [])]

    def efetch(self, pmids: list[str]) -> list[Paper]:
        """Articles for ``pmids`` (PubMed XML), in the order given."""
        if not pmids:
            return []
        try:
            answer = self.http.get("efetch.fcgi", self._params(id=",".join(pmids), retmode="xml", rettype="abstract"))
        except NetworkUnavailable as exc:
            raise PubmedUnavailable(f"NCBI E-utilities: {exc}") from exc
        except HttpError as exc:
            raise PubmedError(f"NCBI efetch failed: {exc}") from exc
        by_pmid = {p.pmid: p for p in parse_pubmed_xml(answer.text)}
        return [by_pmid[p] for p in pmids if p in by_pmid]

    def search(self, query: str, k: int = 40) -> list[Paper]:
        """Up to k papers for an entity list or free text, most relevant first."""
        terms = [t.strip() for t in query.split(",") if t.strip()]
        if not terms:
            raise PubmedError("empty query: the record names no entity to search the literature for")
        k = max(1, min(int(k), MAX_K))
        _, ids = self.esearch(" AND ".join(f"({t})" for t in terms), k)
        if len(ids) < k and len(terms) > 1:
            _, more = self.esearch(" OR ".join(f"({t})" for t in terms), k)
            ids += [p for p in more if p not in ids]
        return self.efetch(ids[:k])

    def _get_json(self, path: str, params: dict):
        try:
            return self.http.get_json(path, params)
        except NetworkUnavailable as exc:
            raise PubmedUnavailable(f"NCBI E-utilities: {exc}") from exc
        except HttpError as exc:
            raise PubmedError(f"NCBI esearch failed: {exc}") from exc


def _text(elem: ET.Element | None) -> str:
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def _abstract(article: ET.Element) -> str | None:
    parts = []
    for node in article.findall(".//Abstract/AbstractText"):
        text = _text(node)
        label = node.get("Label")
        if text:
            parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or None


def _authors(article: ET.Element) -> str:
    names = []
    for a in article.findall(".//AuthorList/Author"):
        if a.find("CollectiveName") is not None:
            names.append(_text(a.find("CollectiveName")))
            continue
        last, initials = _text(a.find("LastName")), _text(a.find("Initials")) or _text(a.find("ForeName"))
        if last:
            names.append(f"{last} {initials}".strip())
    return ", ".join(names)


def _year(article: ET.Element) -> int | None:
    for path in (".//JournalIssue/PubDate/Year", ".//JournalIssue/PubDate/MedlineDate", ".//ArticleDate/Year",
                 ".//PubDate/Year", ".//DateCompleted/Year"):
        year = parse_year(_text(article.find(path)) or None)
        if year:
            return year
    return None


def parse_pubmed_xml(text: str) -> list[Paper]:
    """Papers of a PubMed efetch XML answer (``PubmedArticleSet``); PubmedError when it is not XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise PubmedError(f"NCBI efetch answered something that is not PubMed XML: {exc}") from exc
    papers = []
    for art in list(root.iter("PubmedArticle")) + list(root.iter("PubmedBookArticle")):
        pmid = _text(art.find(".//MedlineCitation/PMID")) or _text(art.find(".//BookDocument/PMID"))
        if not pmid:
            continue
        title = _text(art.find(".//ArticleTitle")) or _text(art.find(".//BookTitle"))
        papers.append(Paper(pmid=pmid, title=title, abstract=_abstract(art), year=_year(art), authors=_authors(art)))
    return papers
