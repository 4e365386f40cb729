"""The one retry policy (vcr_core/retry.py): its schedule with an injected sleeper and random draw, what
it retries, and that the web client and the model client both use it (schedules, never wall time)."""
from __future__ import annotations

import httpx

from vcr_core.net.retry import RetryPolicy, parse_retry_after, retryable_status


def test_backoff_doubles_within_the_jitter_range_and_is_capped():
    policy = RetryPolicy(attempts=5, base_s=0.5, max_s=3.0, jitter=(1.0, 1.25))
    assert list(policy.delays(rand=lambda: 0.0)) == [0.5, 1.0, 2.0, 3.0]  # the last one capped at max_s
    assert list(policy.delays(rand=lambda: 1.0)) == [0.625, 1.25, 2.5, 3.0]
    model = RetryPolicy(attempts=3, base_s=1.0, max_s=30.0, jitter=(0.5, 1.0))
    assert list(model.delays(rand=lambda: 0.0)) == [0.5, 1.0] and list(model.delays(rand=lambda: 1.0)) == [1.0, 2.0]
    assert list(RetryPolicy(attempts=1, base_s=1.0, max_s=1.0).delays()) == []  # one attempt: no retry


def test_retry_after_replaces_the_backoff_and_is_bounded():
    policy = RetryPolicy(attempts=3, base_s=0.5, max_s=4.0)
    assert policy.delay(0, "0.6") == 0.6 and policy.delay(2, 1) == 1.0
    assert policy.delay(0, "120") == 4.0 and policy.delay(0, "-3") == 0.0
    # an HTTP date is not a number of seconds: the back-off applies
    assert policy.delay(1, "Wed, 21 Oct 2026 07:28:00 GMT", rand=lambda: 0.0) == 1.0
    assert parse_retry_after(None) is None and parse_retry_after("2.5") == 2.5


def test_wait_sleeps_through_the_injected_sleeper():
    slept: list[float] = []
    policy = RetryPolicy(attempts=3, base_s=0.25, max_s=4.0, jitter=(1.0, 1.0))
    assert policy.wait(1, sleep=slept.append) == 0.5
    assert policy.wait(0, "2", sleep=slept.append) == 2.0
    assert slept == [0.5, 2.0]


def test_what_is_retried_and_for_how_long():
    policy = RetryPolicy(attempts=3, base_s=0.1, max_s=1.0)
    assert [retryable_status(s) for s in (429, 500, 503, 529, 404, 400, 200, None)] == [True] * 4 + [False] * 4
    assert policy.should_retry(503, 1) and policy.should_retry(503, 2) and not policy.should_retry(503, 3)
    assert not policy.should_retry(404, 1)
    assert policy.should_retry(httpx.ReadTimeout("slow"), 1) and policy.should_retry(TimeoutError(), 2)
    assert not policy.should_retry(ValueError("bad input"), 1)

    class ProviderError(Exception):
        status_code = 429
    assert policy.should_retry(ProviderError(), 1)
    # a caller that classified the failure itself decides; the attempt budget still holds
    assert policy.should_retry(True, 1) and not policy.should_retry(False, 1) and not policy.should_retry(True, 3)


def test_web_and_model_clients_share_the_policy(monkeypatch):
    from vcr_core.llm import client as llm_client
    from vcr_core.llm import complete, resolve_model
    from vcr_core.llm.testing import Reply, ScriptedServer
    from vcr_core.net.http import HttpClient

    web = HttpClient("http://127.0.0.1:9", name="Svc", retries=2, backoff_s=0.5, max_wait_s=4.0, cache_ttl_s=None)
    assert web.policy == RetryPolicy(attempts=3, base_s=0.5, max_s=4.0)
    assert type(llm_client.retry_policy(2)) is RetryPolicy and llm_client.retry_policy(2).attempts == 3

    # the model client waits what the policy says: the server's Retry-After, then the back-off
    waits: list[float] = []
    monkeypatch.setattr(llm_client, "_sleep", waits.append)
    monkeypatch.setattr(llm_client, "BACKOFF_BASE_S", 0.2)
    queue = [Reply(status=429, headers={"Retry-After": "0.05"}), Reply(status=503), Reply(text="ok")]
    with ScriptedServer(queue=queue) as srv:
        out = complete([{"role": "user", "content": "hi"}], model_choice=resolve_model(model="scripted", api_base=srv.base_url),
                       purpose="report", max_retries=3)
    assert out.text == "ok" and out.attempts == 3
    assert waits[0] == 0.05 and 0.2 <= waits[1] <= 0.4  # second retry: base * 2 * [0.5, 1.0]

