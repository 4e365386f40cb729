"""`vcr pubmed serve` (the native server) and the /find_matches client, over real HTTP on 127.0.0.1."""
from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

from vcr_core.net.http import HttpError
from vcr_core.tools.pubmed.client import FindMatchesClient
from vcr_core.tools.pubmed.embed import EmbedderError
from vcr_core.tools.pubmed.native import NativeSearcher
from vcr_core.tools.pubmed.papers import PubmedError, PubmedUnavailable
from vcr_core.tools.pubmed.server import create_app


def test_server_answers_the_original_contract(serve_app, hashing_index, articles_db):
    searcher = NativeSearcher(hashing_index, articles_db)
    srv = serve_app(create_app(searcher))
    rows = httpx.post(f"{srv.url}/find_matches", json={"query": "tamoxifen ESR1 MCF7", "k": 12}).json()
    assert len(rows) == 12
    assert set(rows[0]) == {"pmid", "distance", "authors", "title", "abstract", "publication_year"}
    assert [r["distance"] for r in rows] == sorted(r["distance"] for r in rows)
    assert sum("Tamoxifen" in r["title"] for r in rows) >= 10
    # the client sees exactly what the in-process search returns
    via_http = FindMatchesClient(srv.url).find_matches("tamoxifen ESR1 MCF7", 12)
    assert via_http == searcher.search("tamoxifen ESR1 MCF7", 12)
    emb = httpx.post(f"{srv.url}/embed", json={"text": "imatinib"}).json()
    assert len(emb["embedding"]) == 256 and len(emb["binary_embedding"]) == 32
    assert all(0 <= b <= 255 for b in emb["binary_embedding"])
    assert np.linalg.norm(emb["embedding"]) == pytest.approx(1.0, abs=1e-4)
    assert "hashing" in httpx.get(f"{srv.url}/health").json()["index"]


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not JSON"),
    (b'["a list"]', "JSON object"),
    (b'{"k": 5}', '"query"'),
    (b'{"query": "x", "k": 0}', '"k"'),
    (b'{"query": "x", "k": 101}', '"k"'),
    (b'{"query": "x", "k": "5"}', '"k"'),
])
def test_server_rejects_bad_requests_in_plain_text(serve_app, hashing_index, articles_db, body, message):
    srv = serve_app(create_app(NativeSearcher(hashing_index, articles_db)))
    resp = httpx.post(f"{srv.url}/find_matches", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("text/plain")
    assert message in resp.text
    with pytest.raises(HttpError, match="HTTP 400: .*query"):  # no retry on a client error
        FindMatchesClient(srv.url).http.post_json("/find_matches", {"query": "", "k": 5})


class _Broken:
    """A searcher whose embedder or search fails, to see the server's 502 and 500."""

    def __init__(self, exc):
        self.exc = exc

    def describe(self):
        return "broken"

    def search(self, query, k):
        raise self.exc

    def embed(self, text):
        raise self.exc


def test_server_errors_are_plain_text_502_and_500(serve_app):
    bad_embedder = serve_app(create_app(_Broken(EmbedderError("embedding server at http://x is down"))))
    resp = httpx.post(f"{bad_embedder.url}/find_matches", json={"query": "imatinib", "k": 3})
    assert resp.status_code == 502 and "embedding failed" in resp.text and "is down" in resp.text
    assert httpx.post(f"{bad_embedder.url}/embed", json={"text": "x"}).status_code == 502
    crashing = serve_app(create_app(_Broken(RuntimeError("disk on fire"))))
    resp = httpx.post(f"{crashing.url}/find_matches", json={"query": "imatinib", "k": 3})
    assert resp.status_code == 500 and resp.text == "internal error: RuntimeError: disk on fire"
    with pytest.raises(PubmedError, match="HTTP 500.*disk on fire"):
        FindMatchesClient(crashing.url, retries=0).find_matches("imatinib", 3)


def test_client_retries_a_flaky_server_then_succeeds(stub_server):
    answers = iter([(502, {}, "upstream embedder restarting"), (200, {}, [
        {"pmid": 11, "distance": 3, "authors": ["A B", "C D"], "title": "T", "abstract": "A", "publication_year": "2019"}])])
    stub = stub_server(lambda call: next(answers))
    papers = FindMatchesClient(stub.url, retries=1).find_matches("imatinib", 40)
    assert len(stub.calls) == 2
    assert papers[0].pmid == "11" and papers[0].authors == "A B, C D" and papers[0].year == 2019 and papers[0].distance == 3


def test_client_reports_down_slow_and_garbled_servers(stub_server, free_port):
    with pytest.raises(PubmedUnavailable, match="down or unreachable"):
        FindMatchesClient(f"http://127.0.0.1:{free_port}", retries=0).find_matches("imatinib", 40)
    slow = stub_server(lambda call: (time.sleep(1.5), (200, {}, []))[1])
    with pytest.raises(PubmedError, match="did not answer within 0.3 s"):
        FindMatchesClient(slow.url, timeout_s=0.3, retries=0).find_matches("imatinib", 40)
    garbled = stub_server(lambda call: (200, {"Content-Type": "text/html"}, "<html>proxy login</html>"))
    with pytest.raises(PubmedError, match="not JSON"):
        FindMatchesClient(garbled.url).find_matches("imatinib", 40)
    wrong = stub_server(lambda call: (200, {}, {"results": []}))
    with pytest.raises(PubmedError, match="not a list"):
        FindMatchesClient(wrong.url).find_matches("imatinib", 40)
    with pytest.raises(PubmedError, match="empty query"):
        FindMatchesClient(wrong.url).find_matches("  ", 40)


def test_client_sends_the_original_payload_and_caps_k(stub_server):
    stub = stub_server(lambda call: (200, {}, []))
    FindMatchesClient(stub.url).find_matches("imatinib, K562", 500)
    import json

    assert stub.calls[0].path == "/find_matches" and json.loads(stub.calls[0].body) == {"query": "imatinib, K562", "k": 100}


def test_original_index_searched_through_its_embedding_server(tmp_path, serve_app, articles_db):
    """An original 64-byte index without meta.json is searched with the /embed server as query embedder."""
    from vcr_core.tools.pubmed.build import build_index

    idx = tmp_path / "orig"
    build_index(articles_db, idx, embedder="hashing:512", store_floats=False, progress=False)
    (idx / "meta.json").unlink()  # as the original files come: data.bin + ids.bin only
    embed_server = serve_app(create_app(NativeSearcher(tmp_path / "orig", articles_db, embedder="hashing:512")))
    with pytest.raises(PubmedUnavailable, match="embedding server"):
        NativeSearcher(idx, articles_db)  # the default MiniLM makes 48-byte codes: refused with advice
    remote = NativeSearcher(idx, articles_db, embedder=embed_server.url)
    local = NativeSearcher(idx, articles_db, embedder="hashing:512")
    assert not remote.rerank
    assert remote.search("olaparib PARP1 BRCA1", 15) == local.search("olaparib PARP1 BRCA1", 15)
