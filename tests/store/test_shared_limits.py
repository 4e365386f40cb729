"""Rate limits shared across processes: the schedule and the in-flight cap live in the database, so
N workers keep one service's budget. The tests read the schedule (injected clock), never wall time."""
from __future__ import annotations

import threading

import pytest

from vcr_core.store import get_engine
from vcr_core.store.engine import make_engine
from vcr_core.store.limits import SharedLimiter, forget_shared_limiters, shared_limiter


@pytest.fixture(autouse=True)
def _fresh():
    forget_shared_limiters()
    yield
    forget_shared_limiters()


def test_three_processes_share_one_schedule(engine, db_url):
    """Three workers (three engines: three connection pools, as three processes have) reserve 30
    starts for NCBI at 3/s: every start is distinct and they are exactly 1/3 s apart."""
    engines = [make_engine(db_url) for _ in range(3)]
    starts: list[float] = []
    lock = threading.Lock()

    def worker(e):
        lim = SharedLimiter(e, "host:eutils.ncbi.nlm.nih.gov", rate_per_s=3, clock=lambda: 1000.0)
        for _ in range(10):
            s = lim.reserve()
            with lock:
                starts.append(s)

    threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(starts) == pytest.approx([1000 + k / 3 for k in range(30)])
    # A per-process limiter would have given each worker its own 1000, 1000.33, ...: 3x the budget.
    assert len(set(round(s, 6) for s in starts)) == 30


def test_pause_after_429_holds_every_process(engine, db_url):
    now = [500.0]
    a = SharedLimiter(make_engine(db_url), "llm:openai", rate_per_s=0, clock=lambda: now[0])
    b = SharedLimiter(make_engine(db_url), "llm:openai", rate_per_s=0, clock=lambda: now[0])
    assert a.reserve() == 500.0
    a.pause(7.5)  # a got a 429 with Retry-After: 7.5
    assert b.reserve() == 507.5
    now[0] = 510.0
    assert b.reserve() == 510.0


def test_in_flight_cap_is_cluster_wide_and_dead_holders_expire(engine, db_url):
    now = [0.0]
    mk = lambda: SharedLimiter(make_engine(db_url), "llm:openai", max_concurrent=2, clock=lambda: now[0],  # noqa: E731
                               slot_ttl_s=60)
    a, b, c = mk(), mk(), mk()
    s1, s2 = a.try_acquire(), b.try_acquire()
    assert s1 and s2 and c.try_acquire() is None and c.in_flight() == 2
    a.release(s1)
    s3 = c.try_acquire()
    assert s3 is not None and c.try_acquire() is None
    now[0] = 61.0  # b's worker died holding s2; c holds s3: both expire after the ttl
    assert c.try_acquire() is not None


def test_web_tools_use_the_shared_schedule_for_remote_hosts(engine, monkeypatch):
    from vcr_core.net.http import HostLimiter

    lim = shared_limiter("host:eutils.example.org", rate_per_s=3)
    slept: list[float] = []
    lim.clock, lim.sleep = (lambda: 2000.0), slept.append
    for _ in range(3):
        HostLimiter("eutils.example.org", 3).wait()  # a new client each time: the schedule is not in it
    assert slept == pytest.approx([1 / 3, 2 / 3])
    assert HostLimiter("127.0.0.1:8080", 3).loopback  # our own local servers keep the process limiter


def test_model_calls_take_a_cluster_slot_and_share_a_429_pause(engine, monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.llm.ratelimit import forget_limiters, limiter_for
    from vcr_core.store.limits import SharedLimiter as SL

    monkeypatch.setenv("LLM_MAX_CONCURRENT", "3")
    get_settings.cache_clear()
    forget_limiters()
    try:
        lim = limiter_for("openai", rpm=None)
        shared = lim._shared()
        assert shared is not None and shared.max_concurrent == 3
        with lim.slot():
            assert shared.in_flight() == 1
        assert shared.in_flight() == 0
        lim.pause(30)
        other = SL(get_engine(), "llm:openai")
        assert other.reserve() >= other.clock() + 29  # another process waits out the 429 too
        assert limiter_for("local").shared_key is None  # the embedded model is per machine
    finally:
        forget_limiters()
