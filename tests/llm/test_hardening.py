"""Failures are never counted as success: empty and malformed answers have their own reason,
`vcr generate` exits non-zero when records failed, usage is on record before it is used, and no
fragment of a key reaches errors, logs or the database."""
from __future__ import annotations

import json
import logging

import pytest
from sqlmodel import select

from vcr_core.generation import create_run, run_progress
from vcr_core.jobs import Worker
from vcr_core.kernel.redact import redact
from vcr_core.llm import LlmError, complete, resolve_model
from vcr_core.llm.testing import Reply, ScriptedServer, make_records, prompt_text, smart_responder
from vcr_core.store import LlmCall, Trace, session_scope

MSG = [{"role": "user", "content": "hello"}]
FAKE_KEY = "sk-proj-FAKEKEY-9f8e7d6c5b4a39281706"


def choice(srv):
    return resolve_model(model="scripted", api_base=srv.base_url)


def test_empty_answer_is_its_own_failure(fast_backoff):
    with ScriptedServer(lambda body: Reply(text="")) as srv:
        with pytest.raises(LlmError) as info:
            complete(MSG, model_choice=choice(srv), purpose="explain", max_retries=1)
    assert info.value.reason == "empty_output" and "empty answer" in str(info.value)
    assert "HTTP 500" not in str(info.value)


def test_malformed_200_is_reported_as_such(fast_backoff):
    calls = []
    with ScriptedServer(lambda body: Reply(malformed=True)) as srv:
        with pytest.raises(LlmError) as info:
            complete(MSG, model_choice=choice(srv), purpose="explain", max_retries=1, recorder=calls.append)
    assert info.value.reason == "malformed_response" and "malformed" in str(info.value)
    assert "500" not in str(info.value) and "malformed" in calls[-1].error


def test_malformed_then_good_answer_is_retried(fast_backoff):
    with ScriptedServer(queue=[Reply(malformed=True), Reply(text="")], responder=lambda b: Reply(text="fine")) as srv:
        out = complete(MSG, model_choice=choice(srv), purpose="explain", max_retries=3)
    assert out.text == "fine" and out.attempts == 3


def test_lone_surrogate_in_a_prompt_is_replaced_not_a_failure():
    with ScriptedServer(lambda body: Reply(text="ok")) as srv:
        out = complete([{"role": "user", "content": "bad \ud800 text"}], model_choice=choice(srv), purpose="explain")
        assert "\ufffd" in srv.requests[0].body["messages"][0]["content"]
    assert out.text == "ok"


def test_usage_is_recorded_when_the_call_starts_and_completed_after():
    seen = []

    def recorder(info):
        seen.append(info)
    recorder.wants_in_flight = True
    with ScriptedServer(queue=[Reply(text="hi", prompt_tokens=7, completion_tokens=2)]) as srv:
        complete(MSG, model_choice=choice(srv), purpose="explain", recorder=recorder)
    assert [i.in_flight for i in seen] == [True, False] and seen[1].prompt_tokens == 7


@pytest.fixture
def small_batch(engine, tmp_path):
    from vcr_core.files.ingest import ingest_file

    path = tmp_path / "records.json"
    path.write_text(json.dumps(make_records(4)))
    return ingest_file(engine, path).batch_id


def test_failed_records_keep_their_reason_and_in_flight_rows_are_completed(engine, small_batch, fast_backoff):
    def responder(body):
        return Reply(text="") if '"name": "drug1"' in prompt_text(body) else smart_responder(body)

    with ScriptedServer(responder) as srv:
        run_id = create_run(engine, batch_id=small_batch, record_ids=None, tools=[], model_type=None, model="scripted",
                            mode="explain-only", options={"api_base": srv.base_url}, created_by="t")
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    with session_scope(engine) as s:
        failed = s.exec(select(Trace).where(Trace.run_id == run_id, Trace.status == "failed")).all()
        calls = s.exec(select(LlmCall).where(LlmCall.run_id == run_id)).all()
    assert len(failed) == 1 and "empty answer" in " ".join(failed[0].errors)
    assert not any("in flight" in (c.error or "") for c in calls)  # every started call was completed
    assert run_progress(engine, run_id)["n_failed"] == 1


def test_vcr_generate_exits_non_zero_and_says_how_many_failed(engine, db_url, tmp_path, capsys, fast_backoff):
    from vcr_core.cli.main import main

    path = tmp_path / "recs.json"
    path.write_text(json.dumps(make_records(5)))

    def responder(body):
        text = prompt_text(body)
        return Reply(status=500) if '"name": "drug2"' in text or '"name": "drug4"' in text else smart_responder(body)

    with ScriptedServer(responder) as srv:
        code = main(["generate", "--pert_path", str(path), "--model", "scripted", "--api_base", srv.base_url,
                     "--mode", "explain-only", "--no-files", "--no-verify"])
    err = capsys.readouterr().err
    assert code == 1 and "2 of 5 record(s) failed" in err


def test_key_fragments_are_redacted_everywhere(engine, db_url, small_batch, monkeypatch, caplog, capfd):
    from vcr_core.kernel.redact import install_log_redaction
    from vcr_core.kernel.settings import get_settings

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    get_settings.cache_clear()
    install_log_redaction()
    fragment = FAKE_KEY[8:20]  # an echo without the prefix, cut short
    assert redact(f"bad key {fragment}!") == "bad key ***!"
    assert redact("nothing secret here") == "nothing secret here"

    def responder(body):
        if '"name": "drug0"' in prompt_text(body):
            return Reply(status=400, headers={"X-Echo": fragment})
        return smart_responder(body)

    caplog.set_level(logging.DEBUG)
    with ScriptedServer(responder) as srv:
        run_id = create_run(engine, batch_id=small_batch, record_ids=None, tools=[], model_type=None, model="scripted",
                            mode="explain-only", options={"api_base": srv.base_url}, created_by="t")
        logging.getLogger("vcr_core.test").warning("provider said: key %s is invalid", fragment)
        # a stored error column that would hold a fragment is redacted on its way into the database
        with session_scope(engine) as s:
            trace_errors = [f"provider echoed {fragment}"]
            from vcr_core.store import Run
            run = s.get(Run, run_id)
            run.error = trace_errors[0]
            s.add(run)
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    import sqlite3

    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    dump = "\n".join(con.iterdump())
    con.close()
    out, err = capfd.readouterr()
    for i in range(len(FAKE_KEY) - 7):
        frag = FAKE_KEY[i:i + 8]
        assert frag not in dump, frag
        assert frag not in caplog.text + out + err, frag
