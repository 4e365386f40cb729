"""The local model's client path, against a streaming stub server: progress events, stalls that are
not retried (a retry would queue the same prompt behind the running one), and retried 5xx."""
from __future__ import annotations

import pytest

from vcr_core.jobs.inflight import InFlight, describe
from vcr_core.llm import LlmError, ModelChoice, complete
from vcr_core.llm.testing import Reply, ScriptedServer


def local_choice(srv) -> ModelChoice:
    return ModelChoice("local", "openai/SmolLM2-135M-Instruct", srv.base_url, True)


MSG = [{"role": "user", "content": "hi"}]


def test_streamed_answer_reports_attempt_and_tokens():
    events = []
    with ScriptedServer(queue=[Reply(text="one two three four five six", token_delay_s=0.01)]) as srv:
        out = complete(MSG, model_choice=local_choice(srv), purpose="explain", progress=events.append)
        assert srv.requests[0].body["stream"] is True
    assert out.text == "one two three four five six" and out.completion_tokens == 6
    assert events[0] == {"event": "call", "purpose": "explain", "attempt": 1, "max_attempts": 3}
    assert events[-1] == {"event": "tokens", "tokens": 6}


def test_stall_is_not_retried_and_the_stream_is_closed(monkeypatch):
    import vcr_core.llm.client as client
    monkeypatch.setattr(client, "LOCAL_STALL_S", 0.3)
    with ScriptedServer(queue=[Reply(text="slow " * 50, token_delay_s=0.6), Reply(text="never asked")]) as srv:
        with pytest.raises(LlmError) as err:
            complete(MSG, model_choice=local_choice(srv), purpose="explain")
        assert len(srv.requests) == 1  # no second copy of the prompt was queued
        assert srv.max_active == 1
    assert "not retried" in str(err.value) and "time-out" in str(err.value)
    assert err.value.attempts == 1


def test_server_error_is_retried(fast_backoff):
    events = []
    with ScriptedServer(queue=[Reply(status=503), Reply(text="fine now")]) as srv:
        out = complete(MSG, model_choice=local_choice(srv), purpose="report", progress=events.append)
        assert len(srv.requests) == 2
    assert out.text == "fine now" and out.attempts == 2
    assert [e["attempt"] for e in events if e["event"] == "call"] == [1, 2]
    assert any(e["event"] == "retry_wait" for e in events)


def test_in_flight_state_with_an_injected_clock():
    now = [100.0]
    f = InFlight(clock=lambda: now[0])
    f.begin(7, "1: nintedanib in HUVEC")
    f.event(7, {"event": "stage", "stage": "running tools: kg-ner"})
    now[0] = 103.0
    f.event(7, {"event": "call", "purpose": "explain", "attempt": 2, "max_attempts": 3})
    now[0] = 110.0
    f.event(7, {"event": "tokens", "tokens": 42})
    (item,) = f.snapshot()
    assert item["stage"] == "writing the explanation" and item["calling_model"]
    assert (item["attempt"], item["max_attempts"], item["tokens"]) == (2, 3, 42)
    assert (item["elapsed_s"], item["call_elapsed_s"]) == (10.0, 7.0)
    assert describe(item) == ("writing the explanation · calling the model (attempt 2 of 3, 7 s in this call) · "
                              "10 s on this record · 42 tokens so far")
    f.end(7)
    assert f.snapshot() == []


def test_records_in_flight_reach_run_progress(engine, batch):
    """The worker's heartbeat publishes each record in flight; run_progress hands it to the pages."""
    import threading
    import time

    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs import Worker
    from vcr_core.llm.testing import smart_responder

    def slow(body):
        r = smart_responder(body)
        r.delay_s = 1.5
        return r

    with ScriptedServer(slow) as srv:
        run_id = create_run(engine, batch_id=batch, tools=[], model="scripted", mode="explain-only",
                            options={"api_base": srv.base_url, "concurrency": 2, "max_items": 2})
        w = Worker(engine, exit_when_idle=True, kinds=("generate",), heartbeat_s=0.1)
        t = threading.Thread(target=w.run)
        t.start()
        seen = []
        end = time.monotonic() + 30
        while time.monotonic() < end and t.is_alive():
            seen += run_progress(engine, run_id)["in_flight"]
            time.sleep(0.1)
        t.join(30)
    assert seen, "no record in flight was ever published"
    calling = [i for i in seen if i["calling_model"]]
    assert calling and calling[0]["stage"] == "writing the explanation" and calling[0]["attempt"] == 1
    assert calling[0]["max_attempts"] >= 1 and calling[0]["label"].startswith(("0:", "1:"))
    p = run_progress(engine, run_id)
    assert p["status"] == "done" and p["in_flight"] == [] and p["seconds_per_record"] > 0
