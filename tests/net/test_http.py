"""The shared HTTP helper: retries, Retry-After, time-outs, disk cache, rate limit, offline."""
from __future__ import annotations

import time

import pytest

from vcr_core.kernel.settings import get_settings
from vcr_core.net.http import HttpClient, HttpError, NetworkUnavailable, RateLimiter, probe


def test_retries_server_errors_with_backoff(stub_server):
    answers = iter([(503, {}, "busy"), (500, {}, "oops"), (200, {}, {"ok": 1})])
    stub = stub_server(lambda call: next(answers))
    client = HttpClient(stub.url, name="Svc", retries=2, backoff_s=0.05, cache_ttl_s=None)
    waits: list[float] = []
    client.sleep = waits.append  # the back-off schedule, not the wall clock
    assert client.get_json("/x") == {"ok": 1}
    assert len(stub.calls) == 3 and len(waits) == 2
    assert 0.05 <= waits[0] <= 0.0625 and 0.1 <= waits[1] <= 0.125  # exponential backoff with jitter


def test_gives_up_with_the_status_and_body(stub_server):
    stub = stub_server(lambda call: (500, {}, "database locked"))
    client = HttpClient(stub.url, name="Svc", retries=1, backoff_s=0.01, cache_ttl_s=None)
    with pytest.raises(HttpError, match="Svc answered HTTP 500 after 2 attempts: database locked") as err:
        client.get("/x")
    assert err.value.status == 500
    not_found = stub_server(lambda call: (404, {}, "no such gene"))
    with pytest.raises(HttpError) as err:
        HttpClient(not_found.url, name="Svc", retries=3, cache_ttl_s=None).get("/x")
    assert err.value.status == 404 and len(not_found.calls) == 1  # client errors are not retried


def test_rate_limited_answer_waits_for_retry_after(stub_server):
    answers = iter([(429, {"Retry-After": "0.6"}, "slow down"), (200, {}, {"ok": True})])
    stub = stub_server(lambda call: next(answers))
    client = HttpClient(stub.url, name="Svc", retries=2, backoff_s=0.01, cache_ttl_s=None)
    waits: list[float] = []
    client.sleep = waits.append
    assert client.get_json("/x") == {"ok": True}
    assert waits == [0.6]  # exactly the server's Retry-After
    always = stub_server(lambda call: (429, {"Retry-After": "0"}, "API rate limit exceeded"))
    with pytest.raises(HttpError, match="rate limiting us \\(HTTP 429\\) after 3 attempts"):
        HttpClient(always.url, name="Svc", retries=2, backoff_s=0.01, cache_ttl_s=None).get("/x")


def test_slow_answers_time_out_with_a_clear_message(stub_server):
    stub = stub_server(lambda call: (time.sleep(1.0), (200, {}, {}))[1])
    client = HttpClient(stub.url, name="Slow service", timeout_s=0.2, retries=1, backoff_s=0.01, cache_ttl_s=None)
    with pytest.raises(HttpError, match="Slow service did not answer within 0.2 s"):
        client.get("/x")
    assert len(stub.calls) == 2  # one retry, then the clear message (no wall-clock bound: CI may be loaded)


def test_disk_cache_serves_repeats_without_secrets(stub_server, isolated_settings):
    stub = stub_server(lambda call: (200, {}, {"n": len(stub.calls)}))
    client = HttpClient(stub.url, name="Svc", cache_namespace="svc")
    first = client.get("/gene", {"q": "ABL1", "api_key": "SECRET123"})
    again = client.get("/gene", {"q": "ABL1", "api_key": "OTHER"})
    other = client.get("/gene", {"q": "EGFR"})
    assert len(stub.calls) == 2 and again.cached and not first.cached and again.json() == first.json()
    assert other.json() == {"n": 2}
    files = list((get_settings().cache_dir / "http" / "svc").rglob("*.json"))
    assert len(files) == 2 and not any("SECRET" in f.read_text() or "OTHER" in f.read_text() for f in files)
    errors = stub_server(lambda call: (404, {}, "nope"))
    c2 = HttpClient(errors.url, name="Svc", cache_namespace="svc2")
    for _ in range(2):
        with pytest.raises(HttpError):
            c2.get("/x")
    assert len(errors.calls) == 2  # errors are never cached


def test_offline_blocks_the_internet_but_not_loopback(stub_server, monkeypatch):
    assert get_settings().offline  # tests run with OFFLINE=true
    client = HttpClient("https://example.org/api", name="Example")
    with pytest.raises(NetworkUnavailable, match="^unavailable: no network \\(OFFLINE=true"):
        client.get("/x")
    st = client.status()
    assert not st.available and st.reason == "unavailable: no network (OFFLINE=true)"
    stub = stub_server(lambda call: (200, {}, {"local": True}))
    assert HttpClient(stub.url, name="Local").get_json("/x") == {"local": True}
    assert HttpClient(stub.url, name="Local").status().available


def test_unreachable_host_is_reported_as_no_network(free_port):
    client = HttpClient(f"http://127.0.0.1:{free_port}", name="Gone", retries=1, backoff_s=0.01)
    with pytest.raises(NetworkUnavailable, match="unavailable: no network \\(cannot reach 127.0.0.1"):
        client.get("/x")
    assert probe(f"http://127.0.0.1:{free_port}/").startswith("unavailable: no network (cannot reach")


def test_rate_limiter_spaces_requests_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    # A clock that stands still and a sleep that returns at once: only the limiter's schedule counts.
    limiter = RateLimiter(10.0, clock=lambda: 50.0, sleep=lambda s: None)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: limiter.wait(), range(6)))
    starts = sorted(limiter.granted)
    assert len(starts) == 6
    assert starts[-1] - starts[0] == pytest.approx(0.5)  # 6 starts at 10/s
    assert min(b - a for a, b in zip(starts, starts[1:])) == pytest.approx(0.1)
