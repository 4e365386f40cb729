"""NCBI E-utilities backend against a stand-in speaking esearch JSON and efetch PubMed XML."""
from __future__ import annotations

import pytest

from vcr_core.tools.pubmed.eutils import EutilsClient, parse_pubmed_xml
from vcr_core.tools.pubmed.papers import PubmedError, PubmedUnavailable

ARTICLE = """
  <PubmedArticle>
    <MedlineCitation Status="MEDLINE" Owner="NLM">
      <PMID Version="1">{pmid}</PMID>
      <Article PubModel="Print">
        <Journal>
          <JournalIssue CitedMedium="Internet"><Volume>12</Volume>
            <PubDate>{date}</PubDate>
          </JournalIssue>
          <Title>Journal of Test Oncology</Title>
        </Journal>
        <ArticleTitle>{title}</ArticleTitle>
        {abstract}
        <AuthorList CompleteYN="Y">
          <Author ValidYN="Y"><LastName>Doe</LastName><ForeName>Jane</ForeName><Initials>J</Initials></Author>
          <Author ValidYN="Y"><LastName>Roe</LastName><ForeName>Rick A</ForeName><Initials>RA</Initials></Author>
          <Author ValidYN="Y"><CollectiveName>Leukemia Study Group</CollectiveName></Author>
        </AuthorList>
      </Article>
    </MedlineCitation>
  </PubmedArticle>"""

STRUCTURED = ('<Abstract><AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Imatinib targets '
              '<i>BCR-ABL1</i>.</AbstractText><AbstractText Label="RESULTS">K562 cells died.</AbstractText></Abstract>')


def efetch_xml(pmids: list[str]) -> str:
    parts = []
    for p in pmids:
        date = "<MedlineDate>2018 Nov-Dec</MedlineDate>" if p.endswith("2") else "<Year>2021</Year><Month>Mar</Month>"
        abstract = "" if p.endswith("3") else STRUCTURED
        parts.append(ARTICLE.format(pmid=p, date=date, title=f"Study {p} of imatinib in K562", abstract=abstract))
    return f'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet>\n<PubmedArticleSet>{"".join(parts)}</PubmedArticleSet>'


def ncbi(and_ids, or_ids=(), *, fail_first_with_429=False):
    """A stand-in NCBI: esearch answers by the operator in the term, efetch returns XML for the ids."""
    state = {"n": 0}

    def handler(call):
        state["n"] += 1
        if fail_first_with_429 and state["n"] == 1:
            return 429, {"Retry-After": "0.2"}, {"error": "API rate limit exceeded", "api-key": "1.2.3.4"}
        if call.path.endswith("/esearch.fcgi"):
            ids = list(or_ids) if " OR " in call.query["term"] else list(and_ids)
            ids = ids[: int(call.query["retmax"])]
            return 200, {}, {"header": {"type": "esearch", "version": "0.3"},
                             "esearchresult": {"count": str(len(ids)), "retmax": str(len(ids)), "retstart": "0",
                                               "idlist": ids, "querytranslation": call.query["term"]}}
        if call.path.endswith("/efetch.fcgi"):
            return 200, {"Content-Type": "text/xml"}, efetch_xml(call.query["id"].split(","))
        return 404, {}, "unknown"

    return handler


def test_search_ands_then_ors_and_fetches_in_relevance_order(stub_server):
    stub = stub_server(ncbi(["301", "302"], ["302", "303", "304", "305"]))
    client = EutilsClient(f"{stub.url}/entrez/eutils", backoff_s=0.01)
    papers = client.search("imatinib, K562", 4)
    assert [p.pmid for p in papers] == ["301", "302", "303", "304"]
    terms = [c.query["term"] for c in stub.calls if c.path.endswith("esearch.fcgi")]
    assert terms == ["(imatinib) AND (K562)", "(imatinib) OR (K562)"]
    first = stub.calls[0].query
    assert first["db"] == "pubmed" and first["sort"] == "relevance" and first["retmode"] == "json" and "api_key" not in first
    fetch = stub.calls[-1].query
    assert fetch["id"] == "301,302,303,304" and fetch["retmode"] == "xml"
    p301, p302, p303 = papers[:3]
    assert p301.title == "Study 301 of imatinib in K562" and p301.year == 2021
    assert p301.abstract == "BACKGROUND: Imatinib targets BCR-ABL1. RESULTS: K562 cells died."
    assert p301.authors == "Doe J, Roe RA, Leukemia Study Group"
    assert p302.year == 2018  # from MedlineDate
    assert p303.abstract is None and not p303.has_abstract


class ManualClock:
    """A clock that only moves when the limiter sleeps: the schedule is checked, not the wall clock."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def _manual_limiter(client, rate):
    from vcr_core.net.http import RateLimiter

    clock = ManualClock()
    client.http.limiter = RateLimiter(rate, clock=clock.now, sleep=clock.sleep)
    return client.http.limiter


def test_requests_keep_to_three_per_second_without_a_key(stub_server):
    stub = stub_server(ncbi([], ["1", "2"]))
    client = EutilsClient(f"{stub.url}/eutils")
    assert client.http.limiter.interval == pytest.approx(1 / 3)  # NCBI's keyless limit
    limiter = _manual_limiter(client, 3.0)
    client.http.cache_ttl_s = None  # every request must reach the server here
    for q in ("a, b", "c, d"):
        client.search(q, 5)  # esearch AND, esearch OR, efetch: 3 requests each
    starts = list(limiter.granted)
    assert len(stub.calls) == 6 and len(starts) == 6  # every request went through the limiter
    assert starts[-1] - starts[0] == pytest.approx(5 / 3)
    assert min(b - a for a, b in zip(starts, starts[1:])) == pytest.approx(1 / 3)


def test_api_key_is_sent_and_allows_ten_per_second(stub_server):
    stub = stub_server(ncbi(["7"]))
    client = EutilsClient(f"{stub.url}/eutils", api_key="k-123")
    assert client.http.limiter.interval == pytest.approx(0.1)
    limiter = _manual_limiter(client, 10.0)
    for i in range(3):
        client.search(f"term{i}", 1)
    assert all(c.query.get("api_key") == "k-123" for c in stub.calls)
    starts = list(limiter.granted)
    assert len(starts) == len(stub.calls)
    assert min(b - a for a, b in zip(starts, starts[1:])) == pytest.approx(0.1)
    assert "10 requests/s" in client.status().detail


def test_rate_limit_answer_is_retried(stub_server):
    stub = stub_server(ncbi(["9"], fail_first_with_429=True))
    client = EutilsClient(f"{stub.url}/eutils", backoff_s=0.01)
    waits: list[float] = []
    client.http.sleep = waits.append  # the back-off schedule, not the wall clock
    papers = client.search("imatinib", 1)
    assert [p.pmid for p in papers] == ["9"] and len(stub.calls) == 3
    assert len(waits) == 1 and waits[0] >= 0.2  # the 429's wait (Retry-After) before the retry


def test_errors_are_reported(stub_server, free_port):
    err = stub_server(lambda call: (200, {}, {"esearchresult": {"ERROR": "Invalid query syntax"}}))
    with pytest.raises(PubmedError, match="Invalid query syntax"):
        EutilsClient(f"{err.url}/eutils").search("((", 5)
    broken = stub_server(lambda call: (200, {}, {"esearchresult": {"idlist": ["1"], "count": "1"}})
                         if "esearch" in call.path else (200, {}, "<html>maintenance</html"))
    with pytest.raises(PubmedError, match="not PubMed XML"):
        EutilsClient(f"{broken.url}/eutils").search("imatinib", 5)
    with pytest.raises(PubmedUnavailable, match="no network"):
        EutilsClient(f"http://127.0.0.1:{free_port}/eutils", retries=0).search("imatinib", 5)
    with pytest.raises(PubmedUnavailable, match="OFFLINE=true"):
        EutilsClient().search("imatinib", 5)  # the real NCBI URL while tests run offline


def test_answers_are_cached_on_disk(stub_server):
    stub = stub_server(ncbi(["5"]))
    client = EutilsClient(f"{stub.url}/eutils")
    assert client.search("imatinib", 1) == client.search("imatinib", 1)
    assert len(stub.calls) == 2  # esearch + efetch once; the repeat came from the cache


def test_parse_book_articles_and_missing_pmids():
    xml = ("<PubmedArticleSet><PubmedBookArticle><BookDocument><PMID>77</PMID><Book><BookTitle>Handbook</BookTitle>"
           "<PubDate><Year>2005</Year></PubDate></Book><Abstract><AbstractText>Chapter text.</AbstractText></Abstract>"
           "</BookDocument></PubmedBookArticle><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>")
    papers = parse_pubmed_xml(xml)
    assert [(p.pmid, p.title, p.abstract, p.year) for p in papers] == [("77", "Handbook", "Chapter text.", 2005)]
