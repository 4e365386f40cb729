"""Portability: the migrations, ingest, import and `db info` run on a real PostgreSQL server.

The test starts a throw-away cluster on 127.0.0.1 with Debian's PostgreSQL binaries (the test
command installs them); without them it is skipped with a message.
"""
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    bindir = _pg_bin()
    if not bindir:
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql'); portability test skipped")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user; cannot start a PostgreSQL cluster")
        as_user = ["runuser", "-u", "postgres", "--"]
    # pytest's own temp dirs are private to root; the cluster lives where the postgres user can reach it.
    root = Path(tempfile.mkdtemp(prefix="vcr-pg-"))
    os.chmod(root, 0o755)
    data = root / "pg"
    data.mkdir()
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(as_user + [f"{bindir}/initdb", "-D", str(data), "-U", "vcr", "--auth=trust"], check=True, capture_output=True)
    subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o",
                              f"-p {port} -h 127.0.0.1 -k {data}", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://vcr@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_everything_runs_on_postgresql(postgres_url, monkeypatch, tmp_path, capsys):
    from vcr_core.cli import main
    from vcr_core.settings import get_settings

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
    assert info["counts"]["records"] == 2 and info["counts"]["claims"] == 2
    assert info["database_url"].startswith("postgresql+psycopg://vcr@127.0.0.1")
