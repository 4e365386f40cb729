"""`vcr pubmed build-index | search | status | serve` through the real command-line entry point."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vcr_core.cli.main import main
from vcr_core.kernel.settings import get_settings


def test_build_index_then_search_from_the_command_line(tmp_path, articles_db, capsys):
    out = tmp_path / "idx"
    assert main(["pubmed", "build-index", "--db", str(articles_db), "--out", str(out), "--embedder", "hashing:256",
                 "--batch-size", "100", "--limit", "150"]) == 0
    first = capsys.readouterr()
    assert "150 articles indexed" not in first.out or "partial" in first.out
    assert "partial (run again to continue)" in first.out
    assert main(["pubmed", "build-index", "--db", str(articles_db), "--out", str(out), "--embedder", "hashing:256"]) == 0
    second = capsys.readouterr()
    assert "240 articles indexed" in second.out and "index complete" in second.out
    assert "embedding articles" in second.err  # the tqdm progress bar
    n, vector_bytes = np.fromfile(out / "data.bin", dtype="<i8", count=2)
    assert (n, vector_bytes) == (240, 32)  # the header gives the real bytes per vector
    assert main(["pubmed", "search", "metformin AMPK glucose", "-k", "3", "--index", str(out), "--db", str(articles_db),
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and all(r["title"].startswith("Metformin") for r in rows)
    assert set(rows[0]) == {"pmid", "title", "abstract", "year", "authors", "distance"}


def test_build_index_errors_are_messages(tmp_path, capsys):
    assert main(["pubmed", "build-index", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "o"),
                 "--embedder", "hashing:256"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["pubmed", "build-index", "--db", "x.db", "--out", "o", "--embedder", "nonsense"]) == 1
    assert "unknown embedder" in capsys.readouterr().err


def test_status_and_search_without_a_backend(monkeypatch, capsys, hashing_index, articles_db):
    assert main(["pubmed", "status"]) == 1
    assert "unavailable: no network" in capsys.readouterr().out
    assert main(["pubmed", "search", "imatinib"]) == 1
    assert "PUBMED_SERVER_URL" in capsys.readouterr().err
    monkeypatch.setenv("PUBMED_INDEX_DIR", str(hashing_index))
    monkeypatch.setenv("PUBMED_DB", str(articles_db))
    get_settings.cache_clear()
    assert main(["pubmed", "status"]) == 0
    assert "native index" in capsys.readouterr().out
    assert main(["pubmed", "search", "imatinib K562", "-k", "2"]) == 0
    text = capsys.readouterr().out
    assert "  1. PMID " in text and "Imatinib study" in text


def test_serve_refuses_a_missing_index(tmp_path, articles_db, capsys):
    assert main(["pubmed", "serve", "--index", str(tmp_path), "--db", str(articles_db)]) == 1
    assert "data.bin not found" in capsys.readouterr().err


def test_help_explains_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["pubmed", "--help"])
    text = capsys.readouterr().out
    assert "build-index" in text and "serve" in text and "examples:" in text
    with pytest.raises(SystemExit):
        main(["pubmed", "serve", "--help"])
    assert "/find_matches" in capsys.readouterr().out
