"""The "pubmed-fast-ner" tool and backend choice, each backend behind a real local HTTP server or index."""
from __future__ import annotations

import ast
import json

import pytest

from vcr_core.kernel.settings import get_settings
from vcr_core.records.model import parse_records
from vcr_core.tools import ToolOptions, get_tool, run_tools
from vcr_core.tools.pubmed import Paper, PubmedUnavailable, get_backend, pubmed_status, search_papers
from vcr_core.tools.pubmed.client import FindMatchesClient
from vcr_core.tools.pubmed.query import build_query, record_entities
from vcr_core.tools.pubmed.tool import PubmedTool

TAHOE = {"index": 1, "perturbation": {
    "context": [{"cell type": "K562", "disease": "chronic myeloid leukemia"}],
    "perturbations": [{"perturbation type": "chemical", "name": "imatinib", "known targets": ["ABL1", "KIT"]}]}}


def record(**extra):
    recs, problems = parse_records([dict(TAHOE, **extra)])
    assert not problems
    return recs[0]


def _settings(monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    get_settings.cache_clear()


def test_query_from_entities_or_record_fields():
    raw = record()
    assert record_entities(raw) == {"imatinib": "Chemical", "ABL1": "Gene", "KIT": "Gene", "K562": "CellLine",
                                    "chronic myeloid leukemia": "Disease"}
    pre = record(perturbation_entity={"imatinib": "Chemical", "BCR-ABL": "Gene"}, context_entity={"K562": "CellLine"})
    assert build_query(pre) == "imatinib, BCR-ABL, K562"  # the original: keys of {**perturbation, **context}
    nothing_tagged = record(perturbation_entity={}, context_entity={})
    assert build_query(nothing_tagged) == "imatinib, ABL1, KIT, K562, chronic myeloid leukemia"


def _find_matches_stub(n=45, missing_every=10):
    """A stand-in /find_matches server: n papers, two in ten without an abstract (None or the original's text)."""
    def handler(call):
        body = json.loads(call.body)
        rows = []
        for i in range(min(body["k"], n)):
            abstract = None if i % missing_every == 1 else ("Abstract not found" if i % missing_every == 2 else f"abstract {i}")
            rows.append({"pmid": str(1000 + i), "distance": i, "authors": "A B", "title": f"title {i}",
                         "abstract": abstract, "publication_year": 2000 + i % 20})
        return 200, {}, rows
    return handler


def test_server_backend_keeps_thirty_papers_with_abstracts(stub_server, monkeypatch):
    stub = stub_server(_find_matches_stub())
    _settings(monkeypatch, PUBMED_SERVER_URL=stub.url)
    assert get_backend().name == "server" and pubmed_status().available
    result = get_tool("pubmed-fast-ner").run(record(), ToolOptions())
    assert result.status == "ok"
    sent = json.loads(stub.calls[-1].body)
    assert sent == {"query": "imatinib, ABL1, KIT, K562, chronic myeloid leukemia", "k": 40}
    papers = result.evidence["papers"]
    assert len(papers) == 30 and all(p["abstract"] and p["abstract"] != "Abstract not found" for p in papers)
    assert papers[0] == {"pmid": "1000", "title": "title 0", "abstract": "abstract 0", "year": 2000, "authors": "A B",
                         "distance": 0.0}
    assert result.evidence["backend"] == "server" and result.evidence["retrieved"] == 40
    assert result.prompt_text.startswith("## RELATED PAPER LIST\n") and result.prompt_text.endswith("\n\n")
    listing = ast.literal_eval(result.prompt_text.split("\n", 1)[1].strip())
    assert listing[0] == {"title": "title 0", "abstract": "abstract 0"} and len(listing) == 30
    fewer = PubmedTool().run(record(), ToolOptions(pubmed_num_papers=5))
    assert len(fewer.evidence["papers"]) == 5 and json.loads(stub.calls[-1].body)["k"] == 15


def test_server_down_or_failing_is_reported_not_raised(stub_server, free_port, monkeypatch):
    _settings(monkeypatch, PUBMED_SERVER_URL=f"http://127.0.0.1:{free_port}")
    st = pubmed_status()
    assert not st.available and "not reachable" in st.reason
    out = run_tools(record(), ["pubmed-fast-ner"], ToolOptions(), timeout_s=20)["pubmed-fast-ner"]
    assert out.status == "unavailable" and "not reachable" in out.error
    failing = stub_server(lambda call: (500, {}, "index not loaded"))
    result = PubmedTool(FindMatchesClient(failing.url, retries=0)).run(record(), ToolOptions())
    assert result.status == "error" and "index not loaded" in result.error and "HTTP 500" in result.error


def test_native_backend_from_settings(hashing_index, articles_db, monkeypatch):
    _settings(monkeypatch, PUBMED_INDEX_DIR=hashing_index, PUBMED_DB=articles_db)
    st = pubmed_status()
    assert st.available and st.detail.startswith("native") and "240 vectors" in st.detail
    papers = search_papers("olaparib PARP1 BRCA1 ovarian", 40)
    assert len(papers) == 40 and all(isinstance(p, Paper) for p in papers)
    assert sum(p.title.startswith("Olaparib") for p in papers[:20]) >= 18
    result = get_tool("pubmed-fast-ner").run(record(), ToolOptions())
    assert result.status == "ok" and 0 < len(result.evidence["papers"]) <= 30
    assert all(p["abstract"] for p in result.evidence["papers"])
    assert sum("Imatinib" in p["title"] for p in result.evidence["papers"][:10]) >= 8


def test_auto_without_anything_offline_explains_what_to_set(monkeypatch):
    st = pubmed_status()
    assert not st.available and "no network" in st.reason and "PUBMED_SERVER_URL" in st.reason
    with pytest.raises(PubmedUnavailable, match="PUBMED_INDEX_DIR"):
        search_papers("imatinib")
    out = run_tools(record(), ["pubmed-fast-ner"], ToolOptions())["pubmed-fast-ner"]
    assert out.status == "unavailable" and "no network" in out.error


@pytest.mark.parametrize("env, message", [
    ({"PUBMED_BACKEND": "off"}, "switched off"),
    ({"PUBMED_BACKEND": "server"}, "PUBMED_SERVER_URL is not set"),
    ({"PUBMED_BACKEND": "native", "PUBMED_DB": "/nowhere.db"}, "needs both"),
    ({"PUBMED_BACKEND": "eutils"}, "OFFLINE=true"),
    ({"PUBMED_BACKEND": "bogus"}, "unknown PUBMED_BACKEND"),
    ({"PUBMED_INDEX_DIR": "/no/such/dir", "PUBMED_DB": "/no/such.db"}, "data.bin not found"),
])
def test_misconfiguration_is_explained(monkeypatch, env, message):
    _settings(monkeypatch, **env)
    st = pubmed_status()
    assert not st.available and message in st.reason


def test_eutils_backend_chosen_when_online(stub_server, monkeypatch):
    _settings(monkeypatch, OFFLINE="false", NCBI_API_KEY="abc")
    backend = get_backend()
    assert backend.name == "eutils" and backend.api_key == "abc"


def test_record_without_entities_is_empty_not_an_error(stub_server, monkeypatch):
    stub = stub_server(_find_matches_stub())
    _settings(monkeypatch, PUBMED_SERVER_URL=stub.url)
    recs, _ = parse_records([{"index": 2, "perturbation": {"context": [{}], "perturbations": [{"dose": "1 uM"}]}}])
    result = get_tool("pubmed-fast-ner").run(recs[0], ToolOptions())
    assert result.status == "empty" and "names no" in result.error and not stub.calls
