"""Preprocessing: the dictionary backend's rules, grounding, the original output shape, the CLI
(resumable), a stored batch, the HunFlair2 loading path on a tiny flair model, and PubChem
against a local PUG REST stand-in."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vcr_core.preprocess import get_ner_backend, ground, preprocess_record
from vcr_core.preprocess.dictionary import strip_salt
from vcr_core.records.model import parse_records


@pytest.fixture(scope="module")
def ner(tmp_path_factory):
    """One dictionary backend for the module, built in a settings folder of its own (a module fixture runs
    before the per-test isolation, and must not read or write the user's cache)."""
    from vcr_core.kernel.settings import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VCR_HOME", str(tmp_path_factory.mktemp("ner_home")))
        get_settings.cache_clear()
        backend = get_ner_backend("dictionary")
    get_settings.cache_clear()
    return backend


def _tags(ner, text):
    return [(e.text, e.type) for e in ner.tag(text)]


def test_case_rules_keep_gene_symbols_precise(ner):
    assert ("CAT", "Gene") in _tags(ner, "CAT activity rose.")
    assert not any(t == "cat" for t, _ in _tags(ner, "The cat sat on the mat."))
    assert ("MET", "Gene") in _tags(ner, "MET amplification drives resistance.")
    assert not any(t == "met" for t, _ in _tags(ner, "We met the criteria."))
    assert not any(t == "T" for t, _ in _tags(ner, "T cells were counted."))


def test_longest_match_spans_and_grounding(ner):
    text = "Imatinib is used in chronic myeloid leukemia."
    ents = ner.tag(text)
    disease = next(e for e in ents if e.type == "Disease")
    assert disease.text == "chronic myeloid leukemia" and text[disease.start:disease.end] == disease.text
    drug = next(e for e in ents if e.type == "Chemical")
    assert (drug.namespace, drug.identifier) == ("DrugBank", "DB00619")
    gene = ground("ABL1")
    assert gene.type == "Gene" and gene.identifier == "HGNC:76"


def test_salts_resolve_to_the_parent_drug():
    assert strip_salt("Vinblastine (sulfate)") == "Vinblastine"
    assert strip_salt("Riluzole hydrochloride") == "Riluzole"
    assert strip_salt("Compound X (DMSO_TF solvate)") == "Compound X"
    hit = ground("Cysteamine (hydrochloride)")
    assert hit is not None and hit.type == "Chemical" and hit.canonical.lower() == "cysteamine"


def test_preprocess_record_keeps_the_original_shape(monkeypatch):
    rec = parse_records([{"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukemia"},
                          "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"]}}])[0][0]
    out = preprocess_record(rec, "ner-pubchem")
    assert out.perturbation_entity["imatinib"] == "Chemical" and out.perturbation_entity["ABL1"] == "Gene"
    assert out.context_entity["chronic myeloid leukemia"] == "Disease"
    assert "molecule" not in out.perturbation_entity  # "small molecule" names a kind, not a chemical
    assert out.pubchem_info["source"] == "offline vocabulary" and out.pubchem_info["drugbank_id"] == "DB00619"
    assert all({"start", "end", "namespace", "identifier"} <= set(e) for e in out.entities)


def test_common_cell_lines_come_from_efo_cell_line_branch(ner):
    for name in ("PANC-1", "HCT116", "U2OS", "HUVEC", "MCF-7", "HEK293", "A549"):
        hit = ground(name)
        assert hit is not None and hit.type == "CellLine" and hit.namespace == "EFO", name
    assert ("HCT116", "CellLine") in _tags(ner, "TP53 was knocked out in HCT116 cells.")


def test_record_fields_name_the_chemical_and_the_cell_line():
    rec = parse_records([{"index": 1, "context": {"cell_type": "HCT116"},
                          "perturbation": {"type": "small molecule", "name": "AZ960"}}])[0][0]
    out = preprocess_record(rec, "ner")
    assert out.perturbation_entity["AZ960"] == "Chemical"  # no vocabulary knows AZ960: the record says it
    assert out.context_entity["HCT116"] == "CellLine"
    az = next(e for e in out.entities if e["text"] == "AZ960")
    assert az["part"] == "perturbation" and az["namespace"] == "record" and az["start"] is not None


def test_cli_is_resumable(tmp_path, capsys):
    from vcr_core.cli.main import main
    src = tmp_path / "in.json"
    src.write_text(json.dumps([{"index": 1, "perturbation": {"name": "imatinib"}}, {"index": 2, "perturbation": "broken"},
                               {"index": 3, "perturbation": {"name": "nintedanib"}}]))
    out = tmp_path / "out.json"
    assert main(["preprocess", "--input_path", str(src), "--preprocessed_path", str(out), "--mode", "ner"]) == 0
    first = json.loads(out.read_text())
    assert [r["index"] for r in first] == [1, 3] and "record 2" in capsys.readouterr().err
    first[0]["perturbation_entity"] = {"marker": "Chemical"}  # a record already done is kept as it is
    out.write_text(json.dumps(first))
    assert main(["preprocess", "--input_path", str(src), "--preprocessed_path", str(out), "--mode", "ner"]) == 0
    assert json.loads(out.read_text())[0]["perturbation_entity"] == {"marker": "Chemical"}


def test_stored_batch_and_job(engine, tmp_path):
    from sqlmodel import Session, select

    from vcr_core.files.ingest import ingest_file
    from vcr_core.jobs import enqueue
    from vcr_core.preprocess.job import run_preprocess_job
    from vcr_core.store import Job, Record
    src = tmp_path / "r.json"
    src.write_text(json.dumps([{"index": 1, "context": {"cell_type": "A549"}, "perturbation": {"name": "dexamethasone"}}]))
    batch = ingest_file(engine, src).batch_id
    job = enqueue(engine, "preprocess", {"batch_id": batch, "mode": "ner"})
    run_preprocess_job(job, engine)
    with Session(engine) as s:
        row = s.exec(select(Record)).one()
        assert row.preprocessed["perturbation_entity"]["dexamethasone"] == "Chemical"
        assert s.get(Job, job).n_done == 1


def test_cli_batches_missing_batch_and_redo(engine, tmp_path, capsys):
    from vcr_core.cli.main import main
    from vcr_core.files.ingest import batch_summaries, ingest_file
    src = tmp_path / "r.json"
    src.write_text(json.dumps([{"index": 1, "perturbation": {"name": "imatinib"}}, {"index": 2, "perturbation": {"name": "dexamethasone"}}]))
    batch = ingest_file(engine, src).batch_id
    assert batch_summaries(engine)[0] | {"created_at": None} == {"id": batch, "name": "r", "kind": "upload", "records": 2,
                                                                  "preprocessed": 0, "preprocess_failed": 0, "created_at": None}
    # A batch that does not exist is a usage error (2), as for `vcr verify` and `vcr export`.
    assert main(["preprocess", "--batch", str(batch + 1), "--mode", "ner"]) == 2
    assert f"no batch {batch + 1}" in capsys.readouterr().err
    assert main(["preprocess", "--batch", str(batch), "--mode", "ner"]) == 0
    assert "2 preprocessed, 0 failed, of 2" in capsys.readouterr().out
    assert main(["preprocess", "--batch", str(batch), "--mode", "ner"]) == 0
    assert "already preprocessed" in capsys.readouterr().out
    assert main(["preprocess", "--batch", str(batch), "--mode", "ner", "--redo"]) == 0
    assert "2 preprocessed" in capsys.readouterr().out
    assert main(["db", "batches"]) == 0
    line = capsys.readouterr().out.splitlines()[1].split()
    assert line[:4] == [str(batch), "2", "2", "0"] and line[-1] == "r"


def test_hunflair_backend_loads_and_tags_a_tiny_flair_model(tmp_path):
    from flair.datasets import ColumnCorpus
    from flair.embeddings import OneHotEmbeddings
    from flair.models import SequenceTagger

    from vcr_core.preprocess.hunflair import HunFlairBackend, ModelUnavailable
    (tmp_path / "train.txt").write_text("Imatinib B-Chemical\ninhibits O\nABL1 B-Gene\n. O\n\n")
    corpus = ColumnCorpus(tmp_path, {0: "text", 1: "ner"}, train_file="train.txt", dev_file="train.txt", test_file="train.txt")
    tagger = SequenceTagger(hidden_size=8, embeddings=OneHotEmbeddings.from_corpus(corpus, embedding_length=8),
                            tag_dictionary=corpus.make_label_dictionary("ner", add_unk=False), tag_type="ner", use_crf=False, use_rnn=False)
    tagger.save(tmp_path / "tiny.pt")
    backend = HunFlairBackend(str(tmp_path / "tiny.pt"))
    text = "Imatinib inhibits ABL1 ."
    ents = backend.tag(text)
    assert all(text[e.start:e.end] == e.text and e.type in ("Chemical", "Gene") for e in ents)
    with pytest.raises(ModelUnavailable, match="HUNFLAIR2_MODEL"):
        HunFlairBackend(str(tmp_path / "missing.pt"))


class _PugRest(BaseHTTPRequestHandler):
    calls: list[str] = []
    fail_first: list[int] = []

    def log_message(self, *a):
        pass

    def do_POST(self):  # noqa: N802 - identifiers are posted as forms ("name=imatinib", "cid=5291")
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.path + "?" + self.rfile.read(length).decode())

    def do_GET(self):  # noqa: N802
        self._answer(self.path)

    def _answer(self, path):
        _PugRest.calls.append(path)
        if _PugRest.fail_first:
            _PugRest.fail_first.pop()
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b'{"Fault": {"Code": "PUGREST.ServerBusy", "Message": "Too many requests"}}')
            return
        if "unknownium" in path:
            body, code = {"Fault": {"Code": "PUGREST.NotFound", "Message": "No CID found"}}, 404
        elif "/cids/" in path:
            body, code = {"IdentifierList": {"CID": [5291]}}, 200
        elif "/property/" in path:
            body, code = {"PropertyTable": {"Properties": [{"CID": 5291, "IUPACName": "4-[(4-methylpiperazin-1-yl)methyl]-N-...",
                                                            "CanonicalSMILES": "CC1=C(C=C(C=C1)NC(=O)C2=CC=C(C=C2)CN3CCN(CC3)C)NC4=NC=CC(=N4)C5=CN=CC=C5",
                                                            "InChIKey": "KTUFNOKKBVMGRW-UHFFFAOYSA-N"}]}}, 200
        elif "/synonyms/" in path:
            body, code = {"InformationList": {"Information": [{"CID": 5291, "Synonym": ["152459-95-5", "imatinib", "Gleevec", "CHEMBL941"]}]}}, 200
        else:
            body, code = {"Fault": {"Code": "PUGREST.BadRequest"}}, 400
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())


@pytest.fixture
def pug(monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.net.http import clear_probes
    from vcr_core.preprocess import pubchem

    srv = ThreadingHTTPServer(("127.0.0.1", 0), _PugRest)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setattr(pubchem, "API_BASE", f"http://127.0.0.1:{srv.server_port}/rest/pug")
    monkeypatch.setenv("OFFLINE", "false")
    get_settings.cache_clear()
    _PugRest.calls.clear()
    clear_probes()  # an earlier test may have found a host unreachable
    yield srv
    srv.shutdown()


def test_pubchem_client_cache_404_503(pug):
    from vcr_core.preprocess.pubchem import compound_info
    info = compound_info(name="imatinib")
    assert info["cid"] == 5291 and info["name"] == "imatinib" and info["chembl_id"] == "CHEMBL941"
    assert info["inchikey"] == "KTUFNOKKBVMGRW-UHFFFAOYSA-N" and info["source"] == "pubchem"
    n = len(_PugRest.calls)
    assert compound_info(name="imatinib") == info and len(_PugRest.calls) == n  # second run: zero requests
    missing = compound_info(name="unknownium")
    assert "error" in missing
    _PugRest.fail_first[:] = [1]
    again = compound_info(name="Gleevec")  # one 503, retried
    assert again["cid"] == 5291 and _PugRest.fail_first == []


def test_pubchem_unreachable_falls_back_to_vocabulary(monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.net.http import clear_probes
    from vcr_core.preprocess import pubchem

    monkeypatch.setattr(pubchem, "API_BASE", "http://127.0.0.1:9/rest/pug")  # nothing listens there
    monkeypatch.setenv("OFFLINE", "false")
    clear_probes()
    get_settings.cache_clear()
    before = pubchem.STATS["requests"]
    info = pubchem.compound_info(name="nintedanib", timeout=2)
    assert info["source"] == "offline vocabulary" and info["drugbank_id"] == "DB09079" and "pubchem_error" in info
    assert pubchem.STATS["requests"] == before + 1  # connection refused: not retried
    second = pubchem.compound_info(name="imatinib", timeout=2)  # the next record falls back at once
    assert second["drugbank_id"] == "DB00619" and "not asked again" in second["pubchem_error"]
    clear_probes()
