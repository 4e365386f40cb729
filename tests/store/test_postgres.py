"""Portability: the migrations, ingest, import and `db info` run on a real PostgreSQL server.

The test starts a throw-away cluster on 127.0.0.1 with Debian's PostgreSQL binaries (the test
command installs them); without them it is skipped with a message.
"""
import json

import pytest

from vcr_core.store.testing import PostgresUnavailable, postgres_server


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL cluster on 127.0.0.1 (the one helper tests and benchmarks share)."""
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(f"{exc}; portability test skipped")


@pytest.mark.slow
def test_everything_runs_on_postgresql(postgres_url, monkeypatch, tmp_path, capsys):
    from vcr_core.cli.main import main
    from vcr_core.kernel.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    rec = [{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": ["ABL1"]}}]
    (tmp_path / "r.json").write_text(json.dumps(rec))
    assert main(["ingest", str(tmp_path / "r.json")]) == 0
    rows = [{"index": 1, "input_perturbation": rec[0], "explain": 'set_context(cell_type="K562")\nbinds_to(id="n1", actor="imatinib", target="ABL1")\n'
             'induces_phenotype(id="n2", source="imatinib", phenotype="apoptosis")', "dag": 'edge("n1", "n2", relation="causal")'}]
    (tmp_path / "t.json").write_text(json.dumps(rows))
    assert main(["import-traces", str(tmp_path / "t.json")]) == 0
    capsys.readouterr()
    assert main(["db", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    # the imported trace joined the uploaded record (same perturbation, same context)
    assert info["counts"]["records"] == 1 and info["counts"]["traces"] == 1 and info["counts"]["claims"] == 2
    assert info["database_url"].startswith("postgresql+psycopg://vcr@127.0.0.1")
