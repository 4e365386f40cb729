"""The litellm wrapper against a real OpenAI-compatible server on 127.0.0.1 (litellm's real client path)."""
from __future__ import annotations

import pytest

from vcr_core.llm import LlmError, ModelChoice, complete, resolve_model
from vcr_core.llm.testing import Reply, ScriptedServer

MSG = [{"role": "user", "content": "hello"}]


def choice(srv: ScriptedServer) -> ModelChoice:
    return resolve_model(model="scripted", api_base=srv.base_url)


def test_resolve_model_defaults(monkeypatch):
    from vcr_core.kernel.settings import get_settings

    assert resolve_model().is_knowledge  # no key anywhere: assembled from knowledge (no model)
    assert resolve_model("local").is_local
    assert resolve_model("anthropic").model.startswith("anthropic/claude")
    assert resolve_model("gemini").model.startswith("gemini/")
    assert resolve_model(model="claude-sonnet-4-6").provider == "anthropic"
    assert resolve_model("openai", "gpt-5.4").model == "openai/gpt-5.4"
    c = resolve_model(model="my-model", api_base="http://127.0.0.1:9/v1")
    assert (c.provider, c.model, c.is_local) == ("openai-compatible", "openai/my-model", False)
    monkeypatch.setenv("GEMINI_API_KEY", "g-123456789")
    get_settings.cache_clear()
    assert resolve_model().provider == "gemini"  # first provider with a key
    with pytest.raises(ValueError, match="unknown model type"):
        resolve_model("mistral")


def test_happy_path_records_tokens():
    calls = []
    with ScriptedServer(queue=[Reply(text="hi there", prompt_tokens=12, completion_tokens=3)]) as srv:
        out = complete(MSG, model_choice=choice(srv), purpose="explain", recorder=calls.append)
        assert srv.requests[0].body["model"] == "scripted"  # litellm strips the openai/ prefix
    assert out.text == "hi there" and (out.prompt_tokens, out.completion_tokens) == (12, 3)
    assert out.attempts == 1 and out.cost_usd == 0.0
    assert len(calls) == 1 and calls[0].purpose == "explain" and calls[0].error is None and calls[0].prompt_tokens == 12


def test_retries_429_and_500_then_succeeds(fast_backoff):
    calls = []
    queue = [Reply(status=429, headers={"Retry-After": "0.05"}), Reply(status=500), Reply(status=503), Reply(text="ok")]
    with ScriptedServer(queue=queue) as srv:
        out = complete(MSG, model_choice=choice(srv), purpose="report", recorder=calls.append, max_retries=4)
        assert len(srv.requests) == 4
    assert out.text == "ok" and out.attempts == 4
    assert calls[-1].attempts == 4 and calls[-1].error is None


def test_timeout_is_retried_then_reported(fast_backoff):
    with ScriptedServer(queue=[Reply(text="late", delay_s=1.5), Reply(text="on time")]) as srv:
        out = complete(MSG, model_choice=choice(srv), purpose="explain", timeout=0.5, max_retries=2)
        assert out.text == "on time" and out.attempts == 2
    calls = []
    with ScriptedServer(lambda body: Reply(text="late", delay_s=1.5)) as srv:
        with pytest.raises(LlmError, match="time-out") as info:
            complete(MSG, model_choice=choice(srv), purpose="explain", timeout=0.4, max_retries=1, recorder=calls.append)
    assert info.value.attempts == 2 and calls[-1].error and "gave up after 2 attempts" in calls[-1].error


def test_malformed_body_and_persistent_errors(fast_backoff):
    with ScriptedServer(queue=[Reply(malformed=True), Reply(text="fine")]) as srv:
        assert complete(MSG, model_choice=choice(srv), purpose="explain", max_retries=2).text == "fine"
    with ScriptedServer(lambda body: Reply(status=500)) as srv:
        with pytest.raises(LlmError, match="server error"):
            complete(MSG, model_choice=choice(srv), purpose="explain", max_retries=2)
        assert len(srv.requests) == 3


def test_client_errors_are_not_retried(fast_backoff):
    with ScriptedServer(lambda body: Reply(status=400)) as srv:
        with pytest.raises(LlmError) as info:
            complete(MSG, model_choice=choice(srv), purpose="explain", max_retries=3)
        assert len(srv.requests) == 1 and not info.value.retryable


def test_missing_key_fails_with_a_clear_message_and_no_call():
    calls = []
    with pytest.raises(LlmError, match="ANTHROPIC_API_KEY"):
        complete(MSG, model_choice=resolve_model("anthropic"), purpose="explain", recorder=calls.append)
    assert calls and calls[0].attempts == 0 and "ANTHROPIC_API_KEY" in calls[0].error


def test_json_schema_response_format_reaches_the_server():
    from vcr_core.agents.structured import response_format

    with ScriptedServer(queue=[Reply(text="{}")]) as srv:
        complete(MSG, model_choice=choice(srv), purpose="explain", response_format=response_format(local=True))
        sent = srv.requests[0].body["response_format"]
    assert sent["type"] == "json_object" and "steps" in sent["schema"]["properties"]


def test_rate_limiter_caps_requests_per_minute():
    from vcr_core.llm.ratelimit import ProviderLimiter

    clock = {"t": 100.0}

    def sleep(s):  # the limiter's own schedule on a clock that moves only when it sleeps
        clock["t"] += s

    lim = ProviderLimiter(rpm=600, clock=lambda: clock["t"], sleep=sleep)  # 10 per second
    lim._tokens = 0.0  # an empty bucket
    for _ in range(3):
        with lim.slot():
            pass
    starts = list(lim.granted)
    assert len(starts) == 3
    assert starts[-1] - starts[0] >= 0.2 - 1e-9  # three tokens at 10/s from an empty bucket
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.1 - 0.011  # the limiter polls in steps of >= 0.01 s
