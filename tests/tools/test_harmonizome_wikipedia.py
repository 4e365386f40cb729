"""Harmonizome and Wikipedia tools against stand-ins answering in the real APIs' JSON shapes."""
from __future__ import annotations

import time
from urllib.parse import unquote_plus

import pytest

from vcr_core.records.model import parse_records
from vcr_core.tools import ToolOptions, get_tool, run_tools
from vcr_core.tools.harmonizome import HarmonizomeClient, HarmonizomeTool
from vcr_core.tools.wikipedia import WikipediaClient, WikipediaTool

RECORD = {"index": 3, "perturbation": {
    "context": [{"cell type": "K562", "disease": "chronic myeloid leukemia"}],
    "perturbations": [{"perturbation type": "chemical", "name": "imatinib", "known targets": ["ABL1", "NOPE1"]}]}}


def record(**extra):
    recs, _ = parse_records([dict(RECORD, **extra)])
    return recs[0]


def gene_json(symbol):
    return {"symbol": symbol, "name": f"{symbol} proto-oncogene", "description": f"{symbol} encodes a kinase.",
            "synonyms": [f"{symbol}-S1", f"{symbol}-S2"], "ncbiEntrezGeneId": 25,
            "proteins": [{"symbol": f"{symbol}_HUMAN", "href": f"/api/1.0/protein/{symbol}_HUMAN"}],
            "hgncRootFamilies": []}


GENE_SETS = {"imatinib": ["G1", "G2", "G3"], "K562": ["C1", "C2"], "myeloid": ["M1"]}


def harmonizome_handler(delay_genes: float = 0.0):
    def handler(call):
        parts = call.path.split("/api/1.0/", 1)[1].split("/", 1)
        kind, name = parts[0], unquote_plus(parts[1])
        if kind == "gene":
            time.sleep(delay_genes)
            if name == "NOPE1":
                return 400, {}, {"status": 400, "message": "Could not find gene NOPE1"}
            return 200, {}, gene_json(name)
        if kind == "attribute":
            if name not in GENE_SETS:
                return 404, {}, {"status": 404, "message": f"attribute {name} not found"}
            return 200, {}, {"name": name, "href": f"/api/1.0/attribute/{name}",
                             "geneSets": [{"name": f"{name}/CMAP Signatures of Differentially Expressed Genes",
                                           "href": f"/api/1.0/gene_set/{name}/CMAP+Signatures"}]}
        if kind == "gene_set":
            key = name.split("/")[0]
            return 200, {}, {"attribute": {"name": key}, "dataset": {"name": "CMAP Signatures"},
                             "associations": [{"gene": {"symbol": g, "href": f"/api/1.0/gene/{g}"}, "standardizedValue": 1.5}
                                              for g in GENE_SETS[key] * 10]}
        return 404, {}, "?"
    return handler


def test_harmonizome_targets_name_cell_type_and_disease_words(stub_server):
    stub = stub_server(harmonizome_handler())
    tool = HarmonizomeTool(HarmonizomeClient(f"{stub.url}/Harmonizome"))
    assert tool.status().available
    result = tool.run(record(), ToolOptions())
    assert result.status == "ok"
    text = result.prompt_text
    assert text.startswith("## GENE INFORMATION\n### TARGET GENE INFORMATION\nThe target gene of the perturbation is ABL1.")
    assert "The gene name is ABL1 proto-oncogene and the gene symbol is ABL1." in text
    assert "The gene synonyms are ABL1-S1, ABL1-S2." in text and "related to the proteins ABL1_HUMAN." in text
    assert "### PERTURBATION NAME INFORMATION\nThe perturbation name is imatinib." in text
    assert "The related genes are G1, G2, G3." in text  # de-duplicated associations
    assert "### CELL TYPE INFORMATION\nThe cell type of the context is K562." in text
    # "chronic myeloid leukemia" is unknown as a whole; its word "myeloid" is known (the original's fallback)
    assert "### DISEASE MODEL INFORMATION\nThe disease model of the context is myeloid." in text
    assert "NOPE1" not in text and text.endswith("\n\n")
    genes = result.evidence["genes"]
    assert [g["symbol"] for g in genes if g["role"] == "target"] == ["ABL1"]
    assert {g["symbol"] for g in genes if g["via"] == "imatinib"} == {"G1", "G2", "G3"}
    assert [s["role"] for s in result.evidence["gene_sets"]] == ["perturbation", "cell type", "disease model"]
    assert genes[0]["proteins"] == ["ABL1_HUMAN"] and genes[0]["description"] == "ABL1 encodes a kinase."
    calls = len(stub.calls)
    tool.run(record(), ToolOptions())
    assert len(stub.calls) == calls  # every answer came from the disk cache the second time


def test_harmonizome_slow_and_failing_answers(stub_server):
    slow = stub_server(harmonizome_handler(delay_genes=1.0))
    client = HarmonizomeClient(f"{slow.url}/Harmonizome", timeout_s=0.2, retries=0)
    result = HarmonizomeTool(client).run(record(perturbation={"perturbations": [
        {"perturbation type": "chemical", "name": "unknown-drug", "known targets": ["ABL1"]}], "context": [{}]}),
        ToolOptions())
    assert result.status == "error" and "did not answer within 0.2 s" in result.error
    broken = stub_server(lambda call: (503, {}, "maintenance"))
    result = HarmonizomeTool(HarmonizomeClient(f"{broken.url}/Harmonizome", retries=1, backoff_s=0.01)).run(record(), ToolOptions())
    assert result.status == "error" and "HTTP 503" in result.error and "maintenance" in result.error


def test_run_tools_times_out_a_slow_tool_and_keeps_the_others(stub_server, monkeypatch):
    from vcr_core.tools import base

    # The slow tool never answers within the budget; the other is built beforehand, so a loaded
    # machine's import time cannot eat its share (no wall-clock assertion: the statuses say it all).
    slow = stub_server(harmonizome_handler(delay_genes=8.0))
    monkeypatch.setitem(base._INSTANCES, "harmonizome", HarmonizomeTool(HarmonizomeClient(f"{slow.url}/Harmonizome")))
    monkeypatch.setitem(base._INSTANCES, "wikipedia", WikipediaTool(WikipediaClient()))
    out = run_tools(record(), ["harmonizome", "wikipedia"], ToolOptions(), timeout_s=3.0)
    assert out["harmonizome"].status == "timeout" and "took longer than 3 s" in out["harmonizome"].error
    assert out["wikipedia"].status == "unavailable" and "no network" in out["wikipedia"].error


def test_offline_tools_say_no_network_and_the_run_goes_on():
    statuses = {name: get_tool(name).status() for name in ("harmonizome", "wikipedia")}
    assert all(not s.available and "unavailable: no network (OFFLINE=true)" in s.reason for s in statuses.values())
    out = run_tools(record(), ["harmonizome", "wikipedia"], ToolOptions())
    assert {r.status for r in out.values()} == {"unavailable"}


def wiki_handler(delay: float = 0.0):
    pages = {"Imatinib": "Imatinib is a tyrosine kinase inhibitor used to treat cancer. " * 120,
             "K562 (cell line)": "K562 cells were the first human immortalised myelogenous leukaemia line."}

    def handler(call):
        time.sleep(delay)
        q = call.query
        assert q["action"] == "query" and q["format"] == "json"
        if q.get("list") == "search":
            term = q["srsearch"].lower()
            hits = [t for t in pages if term[:4] in t.lower()]
            return 200, {}, {"batchcomplete": True, "query": {"searchinfo": {"totalhits": len(hits)},
                                                              "search": [{"ns": 0, "title": t, "pageid": 7 + i}
                                                                         for i, t in enumerate(hits)]}}
        if q.get("prop") == "extracts":
            title = q["titles"]
            if title not in pages:
                return 200, {}, {"query": {"pages": [{"ns": 0, "title": title, "missing": True}]}}
            return 200, {}, {"batchcomplete": True, "query": {"pages": [{"pageid": 7, "ns": 0, "title": title,
                                                                          "extract": pages[title]}]}}
        return 200, {}, {"error": {"code": "badvalue", "info": "Unrecognized value"}}
    return handler


def test_wikipedia_extract_per_entity(stub_server):
    stub = stub_server(wiki_handler())
    tool = WikipediaTool(WikipediaClient(f"{stub.url}/w/api.php"))
    pre = record(perturbation_entity={"imatinib": "Chemical"}, context_entity={"K562": "CellLine", "zebra": "Species"})
    result = tool.run(pre, ToolOptions())
    assert result.status == "ok"
    assert result.prompt_text.startswith("## WIKIPEDIA INFORMATION\n## imatinib\nImatinib is a tyrosine kinase inhibitor")
    assert "## K562\nK562 cells were the first" in result.prompt_text and "zebra" not in result.prompt_text
    pages = result.evidence["pages"]
    assert [p["title"] for p in pages] == ["Imatinib", "K562 (cell line)"]
    assert len(pages[0]["extract"]) == 4000  # cut as the original retriever did
    assert pages[1]["url"] == f"{stub.url}/wiki/K562_%28cell_line%29"


def test_wikipedia_slow_and_error_answers(stub_server):
    slow = stub_server(wiki_handler(delay=1.0))
    client = WikipediaClient(f"{slow.url}/w/api.php", timeout_s=0.2, retries=0)
    result = WikipediaTool(client).run(record(), ToolOptions())
    assert result.status == "error" and "did not answer within 0.2 s" in result.error
    bad = stub_server(lambda call: (200, {}, {"error": {"code": "maxlag", "info": "Waiting for a database server"}}))
    result = WikipediaTool(WikipediaClient(f"{bad.url}/w/api.php")).run(record(), ToolOptions())
    assert result.status == "error" and "Waiting for a database server" in result.error
    limited = stub_server(lambda call: (429, {"Retry-After": "0"}, "Too many requests"))
    result = WikipediaTool(WikipediaClient(f"{limited.url}/w/api.php", retries=1, backoff_s=0.01)).run(record(), ToolOptions())
    assert result.status == "error" and "HTTP 429" in result.error


def test_tools_are_registered_under_the_original_names():
    from vcr_core.tools import tool_names

    assert {"pubmed-fast-ner", "harmonizome", "wikipedia"} <= set(tool_names())
    assert get_tool("wikipedia").title and get_tool("harmonizome").title and get_tool("pubmed-fast-ner").title


@pytest.mark.parametrize("name", ["harmonizome", "wikipedia"])
def test_unreachable_host_is_no_network(stub_server, free_port, name):
    url = f"http://127.0.0.1:{free_port}"
    tool = HarmonizomeTool(HarmonizomeClient(f"{url}/Harmonizome", retries=0)) if name == "harmonizome" else \
        WikipediaTool(WikipediaClient(f"{url}/w/api.php", retries=0))
    assert not tool.status().available and "cannot reach 127.0.0.1" in tool.status().reason
    result = tool.run(record(), ToolOptions())
    assert result.status == "unavailable" and result.error.startswith("unavailable: no network")


def test_harmonizome_genetic_perturbation_uses_its_gene(stub_server):
    stub = stub_server(harmonizome_handler())
    recs, _ = parse_records([{"index": 9, "perturbation": {"context": [{}], "perturbations": [
        {"perturbation type": "genetic", "gene symbol": "TP53"}]}}])
    result = HarmonizomeTool(HarmonizomeClient(f"{stub.url}/Harmonizome")).run(recs[0], ToolOptions())
    assert result.status == "ok" and [g["symbol"] for g in result.evidence["genes"]] == ["TP53"]
    assert stub.paths() == ["/Harmonizome/api/1.0/gene/TP53"]  # a knockout has no name to look up as a drug
