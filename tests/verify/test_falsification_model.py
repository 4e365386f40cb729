"""The falsification agent calls the model its run was generated with (model and api_base), or the one
`vcr verify --model/--api_base` names, never the provider's default host."""
from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from vcr_core.files.ingest import ingest_file
from vcr_core.store import Run, Trace, Verdict, session_scope
from vcr_core.verify import verify_traces
from vcr_core.verify.testing import EXPLANATION, add_trace

FINAL = json.dumps({"claims": {"n1": {"verdict": "survives", "reason": "DrugBank lists ABL1"},
                               "n2": {"verdict": "inconclusive", "reason": "no data"},
                               "n3": {"verdict": "inconclusive", "reason": "no data"}}, "overall": "inconclusive"})


@pytest.fixture
def trace_id(engine, tmp_path):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"},
                                 "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"]}}]))
    res = ingest_file(engine, path)
    return add_trace(engine, res.batch_id, EXPLANATION)


def _set_run_model(engine, trace_id, api_base):
    with session_scope(engine) as s:
        run = s.get(Run, s.get(Trace, trace_id).run_id)
        run.provider, run.model, run.mode = "openai-compatible", "openai/scripted", "explain-only"
        run.options = {"api_base": api_base}
        run.meta = {"api_base": api_base, "is_local": False}
        s.add(run)


def test_falsification_uses_the_runs_api_base(engine, trace_id):
    from vcr_core.llm.testing import Reply, ScriptedServer
    with ScriptedServer(queue=[Reply(FINAL)]) as srv:
        base = srv.base_url
        _set_run_model(engine, trace_id, base)
        summary = verify_traces(engine, [trace_id], ["falsification"], instances={})
        assert len(srv.requests) == 1 and srv.requests[0].body["model"] == "scripted"
    assert summary["by_verifier"]["falsification"]["supported"] == 1
    with Session(engine) as s:
        assert s.get(Trace, trace_id).meta["falsification"]["model"] == f"openai/scripted @ {base}"


def test_falsification_uses_an_explicit_model_and_survives_a_failing_one(engine, trace_id):
    from vcr_core.llm import resolve_model
    from vcr_core.llm.testing import Reply, ScriptedServer
    with ScriptedServer(queue=[Reply(status=400)]) as broken:
        _set_run_model(engine, trace_id, broken.base_url)
        with ScriptedServer(queue=[Reply(FINAL)]) as srv:
            choice = resolve_model(model="scripted", api_base=srv.base_url)
            verify_traces(engine, [trace_id], ["falsification"], instances={}, model_choice=choice)
            assert len(srv.requests) == 1 and not broken.requests  # the explicit model wins over the run's
    with Session(engine) as s:
        for row in s.exec(select(Verdict).where(Verdict.verifier == "falsification")).all():
            s.delete(row)
        s.commit()
    with ScriptedServer(queue=[Reply(status=400)] * 10) as broken:
        _set_run_model(engine, trace_id, broken.base_url)
        summary = verify_traces(engine, [trace_id], ["falsification"], instances={})
        assert broken.requests  # the run's own server was asked
    assert "falsification" not in summary["by_verifier"]  # a failed call leaves no verdict (a later run retries)
    with Session(engine) as s:
        assert "error" in s.get(Trace, trace_id).meta["falsification"]


def test_cli_verify_passes_api_base(engine, trace_id, capsys):
    from vcr_core.cli.main import main
    from vcr_core.llm.testing import Reply, ScriptedServer
    with ScriptedServer(queue=[Reply(FINAL)]) as srv:
        rc = main(["verify", "--trace", str(trace_id), "--verifiers", "falsification", "--model", "scripted",
                   "--api_base", srv.base_url, "--json"])
        assert rc == 0 and len(srv.requests) == 1
