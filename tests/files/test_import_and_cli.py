"""Import of the original pipeline's three output formats, `vcr validate`, `vcr db info`, `vcr schema`."""
import csv
import json

from sqlmodel import Session, select

from vcr_core.cli.main import main
from vcr_core.files.importers import import_traces
from vcr_core.store import Claim, Trace

GOOD_EXPLAIN = ('set_context(cell_type="K562")\nbinds_to(id="n1", actor="imatinib", target="ABL1")\n'
                'induces_phenotype(id="n2", source="imatinib", phenotype="apoptosis")')
GOOD_DAG = 'edge("n1", "n2", relation="causal")'
PERT = {"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": ["ABL1"]}}


def _structured_rows():
    return [
        {"index": 1, "input_perturbation": PERT, "thinking": "BCR-ABL drives K562.", "answer": "Imatinib kills K562.",
         "explain": GOOD_EXPLAIN, "dag": GOOD_DAG, "raw_response": "<answer>Imatinib kills K562.</answer>...",
         "question": "How does imatinib change K562?", "input_report_text": "## Report\nImatinib inhibits ABL1.",
         "additional_info": {"model": "claude"}},
        {"index": 2, "input_perturbation": dict(PERT, index=2), "thinking": "", "answer": "", "explain": "this is not a graph",
         "dag": "", "raw_response": "garbage", "question": "q", "input_report_text": "", "additional_info": {}},
    ]


def test_import_structured_json(engine, tmp_path):
    path = tmp_path / "structure-explain.json"
    path.write_text(json.dumps(_structured_rows()))
    counts = import_traces(engine, path)
    assert counts["rows"] == 2 and counts["ok"] == 1 and counts["invalid"] == 1
    with Session(engine) as s:
        traces = s.exec(select(Trace).order_by(Trace.id)).all()
        assert [t.status for t in traces] == ["ok", "invalid"]
        assert traces[0].report.startswith("## Report") and traces[0].source == "imported"
        assert traces[1].findings and traces[1].raw_output  # stored with findings, never dropped
        assert len(s.exec(select(Claim)).all()) == 2
    again = import_traces(engine, path)
    assert again["duplicate"]


def test_import_report_json(engine, tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps([{"index": 5, "perturbation": PERT, "report_text": "## Mechanism\nABL1 inhibition."}]))
    counts = import_traces(engine, path)
    assert counts["report_only"] == 1
    with Session(engine) as s:
        t = s.exec(select(Trace)).one()
        assert t.report.startswith("## Mechanism") and t.status == "report_only"


def test_import_csv_with_python_dict_literal(engine, tmp_path):
    path = tmp_path / "results.csv"
    cols = ["index", "question", "thinking", "answer", "explain", "dag", "raw_response", "success", "error",
            "input_perturbation", "input_report_text"]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerow({"index": 0, "question": "q", "thinking": "t", "answer": "a", "explain": GOOD_EXPLAIN, "dag": GOOD_DAG,
                    "raw_response": "r", "success": "True", "error": "",
                    "input_perturbation": repr({"context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": None}}),
                    "input_report_text": ""})
        w.writerow({"index": 1, "question": "q", "thinking": "", "answer": "", "explain": "", "dag": "",
                    "raw_response": "", "success": "False", "error": "timeout", "input_perturbation": "{not python",
                    "input_report_text": ""})
    counts = import_traces(engine, path)
    assert counts["rows"] == 2 and counts["ok"] == 1 and counts["invalid"] == 1
    with Session(engine) as s:
        traces = s.exec(select(Trace).order_by(Trace.id)).all()
        assert traces[1].errors and "could not be read" in traces[1].errors[0]


def test_validate_json_output(tmp_path, capsys):
    path = tmp_path / "e.json"
    path.write_text(json.dumps(_structured_rows()))
    assert main(["validate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 2
    assert len(out[0]["claims"]) == 2 and out[0]["edges"] == 1 and out[0]["findings"] == []
    assert {f["code"] for f in out[1]["findings"]} >= {"unparseable_line"} or out[1]["findings"]
    for f in out[1]["findings"]:
        assert set(f) == {"code", "severity", "line", "message"}


def test_validate_text_file_readable(tmp_path, capsys):
    path = tmp_path / "e.txt"
    path.write_text(f"<explain>\n{GOOD_EXPLAIN}\nbind_to(id=\"n3\", actor=\"x\", target=\"y\")\n</explain>\n<dag>\n{GOOD_DAG}\n</dag>")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "unknown_primitive" in out and "binds_to" in out


def test_ingest_cli_and_db_info(db_url, tmp_path, capsys):
    good = tmp_path / "r.json"
    good.write_text(json.dumps([PERT]))
    assert main(["ingest", str(good)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([PERT, dict(PERT)]))  # duplicate index
    assert main(["ingest", str(bad)]) == 1
    assert "duplicate index" in capsys.readouterr().err
    assert main(["db", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"]["records"] == 1 and info["counts"]["batches"] == 1 and info["schema_revision"]
    assert set(info["counts"]) == {"batches", "records", "runs", "traces", "claims", "verdicts", "curations", "jobs"}


def test_db_info_hides_password(monkeypatch, capsys):
    from vcr_core.store import redact_url
    assert "secret" not in redact_url("postgresql://u:secret@host/db")


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "nodes" in schema["properties"] and "edges" in schema["properties"]


def test_status_command_says_what_to_do_about_each_missing_part(engine, monkeypatch, capsys):
    from vcr_core.kernel.settings import get_settings
    monkeypatch.setenv("OFFLINE", "true")
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "PUBMED_SERVER_URL", "PUBMED_INDEX_DIR"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    assert main(["status", "--json"]) == 0
    parts = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert parts["Database"]["ok"] and not parts["Network"]["ok"]
    pubmed = parts["Tool pubmed-fast-ner"]
    assert not pubmed["ok"] and "PUBMED_SERVER_URL" in pubmed["todo"] and "vcr pubmed build-index" in pubmed["todo"]
    assert "internet" in parts["Tool wikipedia"]["todo"]
    assert not parts["Model providers"]["ok"] and "ANTHROPIC_API_KEY" in parts["Model providers"]["todo"]
    assert main(["status"]) == 0
    assert "what to do:" in capsys.readouterr().out
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
    get_settings.cache_clear()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "openai: key present" in out and "SECRET" not in out  # a key is named, never shown


def test_vcr_core_never_imports_streamlit():
    """The library stays free of Streamlit (pages are thin; the CLI and workers run without it)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "vcr_core"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if re.search(r"^\s*(import streamlit|from streamlit)", p.read_text(encoding="utf-8"), re.M)]
    assert not offenders, f"vcr_core modules importing streamlit: {offenders}"


def test_statuses_are_defined_once_and_stored_as_plain_strings(engine):
    """One vocabulary: the enums compare equal to the stored strings, and migration 0004 normalises the
    judgment values older code wrote ('back_to_review' -> 'needs_review')."""
    from alembic import command
    from sqlalchemy import text

    from vcr_core.kernel.statuses import LEGACY_JUDGMENTS, JobStatus, PolicyOutcome, TraceJudgment
    from vcr_core.kernel.statuses import VerdictValue as Verdict
    from vcr_core.store.engine import _alembic_config, upgrade_database
    from vcr_core.verify.base import SUPPORTED
    from vcr_core.verify.policy import PASS

    assert SUPPORTED is Verdict.SUPPORTED and SUPPORTED == "supported" and PASS == PolicyOutcome.PASS == "pass"
    assert f"{JobStatus.RUNNING}" == "running" and TraceJudgment.NEEDS_REVIEW == LEGACY_JUDGMENTS["back_to_review"]
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with engine.begin() as conn:  # judgments as an older version wrote them (no trace needed: FKs off)
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for i, old in enumerate(["back_to_review", "approved", "accept"], start=1):
            conn.execute(text("INSERT INTO curation (id, target, trace_id, curator, judgment, created_at) "
                              "VALUES (:i, 'trace', 1, 'ann', :j, '2026-01-01')"), {"i": i, "j": old})
    cfg.attributes.pop("connection", None)
    upgrade_database(engine)
    with engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("SELECT judgment FROM curation ORDER BY id"))]
    assert rows == ["needs_review", "approve", "accept"]
